"""Edit histories (peerhub.history) of challenges and comments, and how any item's history is
shown: each edit with the fields it changed, diffed word by word (challenges.diff). The
marketplace shows its offers' histories with the same `history_context`."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from peerhub import history

from .diff import DiffRow, diff_stats, side_by_side
from .models import Challenge, Comment

CHALLENGE_LABELS = {
    "title": _("Title"),
    "summary": _("Summary"),
    "problem": _("The problem"),
    "context": _("Context"),
    "criteria": _("Success criteria"),
    "opens_at": _("Opens"),
    "closes_at": _("Deadline"),
    "visibility": _("Visibility"),
    "licence": _("Licence"),
    "language": _("Language of the brief"),
}
COMMENT_LABELS = {"body": pgettext_lazy("noun", "Comment")}


def when(moment) -> str:
    """A date as the history shows it (UTC, to the minute), or "none"."""
    if moment is None:
        return "none"
    return timezone.localtime(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def challenge_fields(challenge: Challenge) -> dict[str, str]:
    """A challenge's tracked fields as text: its brief, criteria, dates, visibility, licence.
    Kept in the site's language whoever edits, so that a reader's language never shows as an
    edit."""
    with translation.override(settings.LANGUAGE_CODE):
        return _challenge_fields(challenge)


def _challenge_fields(challenge: Challenge) -> dict[str, str]:
    criteria = challenge.criteria.order_by("position", "pk").values_list("name", "description")
    return {
        "title": challenge.title,
        "summary": challenge.summary,
        "problem": challenge.problem,
        "context": challenge.context,
        "criteria": "\n".join(f"{n}: {d}" if d else n for n, d in criteria),
        "opens_at": when(challenge.opens_at),
        "closes_at": when(challenge.closes_at),
        "visibility": challenge.get_visibility_display(),
        "licence": challenge.licence,
        "language": challenge.get_language_display(),
    }


def challenge_value_shown(name: str, text: str) -> str:
    """A challenge's tracked value, kept in English (challenge_fields), in the reader's language:
    its visibility, and "none" for a date it does not have."""
    if name in ("opens_at", "closes_at") and text == "none":
        return pgettext("edit history: no date", "none")
    if name == "visibility":
        with translation.override(settings.LANGUAGE_CODE):
            kept = {str(label): label for _value, label in Challenge.Visibility.choices}
        return str(kept.get(text, text))
    return text


def comment_fields(comment: Comment) -> dict[str, str]:
    return {"body": comment.body}


@dataclass(frozen=True)
class ShownField:
    label: str
    rows: list[DiffRow]
    stats: dict[str, int]


@dataclass(frozen=True)
class ShownEdit:
    number: int
    edited_by: object
    edited_at: object
    fields: list[ShownField]


def history_context(
    item, labels: Mapping[str, str], shown: Callable[[str, str], str] | None = None
) -> dict:
    """What templates/history.html needs for an item: its edits, newest first, each field it
    changed as a side-by-side diff, and its first version. `shown(field, text)` words a kept
    value in the reader's language (values are kept in English)."""
    versions = history.versions(item)
    word = shown or (lambda _name, text: text)
    edits = [
        ShownEdit(
            change.version.number,
            change.version.edited_by,
            change.version.edited_at,
            [
                ShownField(f.name, rows, diff_stats(rows))
                for f in change.fields
                for rows in [side_by_side(word(f.key, f.old), word(f.key, f.new))]
            ],
        )
        for change in history.changes(versions, labels)
    ]
    return {"edits": edits, "first": versions[0] if versions else None}
