"""The messages PeerHub writes on a revision itself (a solution's first version, a fork, changes
taken from a fork): stored in English, worded in the reader's language when shown. Rows written
before this rule hold the message in the language of whoever made it; those are recognised too."""

import re
from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

FIRST_VERSION = gettext_noop("First version")
FORKED_FROM = gettext_noop("Forked from “{title}” revision {number} by {author}")
ACCEPTED_FROM_FORK = gettext_noop(
    "Accepted changes from the fork “{title}” by {author} (revision {number})"
)
AUTOMATIC = (FIRST_VERSION, FORKED_FROM, ACCEPTED_FROM_FORK)
_FIELD = re.compile(r"\{(\w+)\}")


@cache
def _pattern(template: str, language: str) -> re.Pattern:
    """`template` as worded in `language`, its {fields} caught by name."""
    with translation.override(language):
        worded = gettext(template)
    parts = _FIELD.split(worded)  # text, field, text, field, …
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else rf"(?P<{part}>.+)" for i, part in enumerate(parts)
        ),
        re.DOTALL,
    )


def shown_message(message: str) -> str:
    """A revision's message for the reader: an automatic one in the active language, whichever
    language it was stored in; what its author wrote, as written."""
    for template in AUTOMATIC:
        for language, _name in settings.LANGUAGES:
            found = _pattern(template, language).fullmatch(message)
            if found:
                return gettext(template).format(**found.groupdict())
    return message
