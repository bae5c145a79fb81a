"""The home page's figures (members, signatories, and what the apps add), kept in the cache.

Counting 100k members and 50k solutions on every home page is the slow part of it, and the
figures change only when something is written. So they are counted once per generation: a write
that can change them calls `figures_changed()` (connected to the models' signals by the apps'
`ready()`), which starts a new generation once the transaction commits. A timeout bounds how long
a figure can lag if a change ever comes in without a signal (a bulk update, a raw SQL write)."""

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .hooks import collect
from .models import ManifestoVersion
from .selectors import members_public

GENERATION_KEY = "site-figures:generation"
TIMEOUT = 10 * 60


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return generation


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing cached to invalidate
        cache.add(GENERATION_KEY, 1, timeout=None)


def figures_changed(**_signal_kwargs) -> None:
    """Figures counted so far are stale. Bumped now (so this request sees its own write) and
    again after the commit, so a reader between the write and the commit cannot leave the old
    counts cached under the newest generation."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def changed_on_save_of(*fields: str):
    """A post_save receiver that marks the figures stale unless the save named its
    `update_fields` and none of `fields` is among them (a login saving `last_login` changes no
    figure; a member's activation does)."""

    def receiver(sender, instance, created=False, update_fields=None, **kwargs) -> None:
        if created or update_fields is None or set(fields) & set(update_fields):
            figures_changed()

    return receiver


def _cached(name: str, compute):
    key = f"site-figures:{_generation()}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=TIMEOUT)
    return value


def signature_count(*, version: ManifestoVersion | None) -> int:
    """How many members signed `version` (the manifesto page's total and a home figure)."""
    if version is None:
        return 0
    return _cached(f"signatures:{version.pk}", lambda: version.signatures.count())


def member_count() -> int:
    """How many members others may see and count (selectors.members_public): a home figure and
    the total of the API's member list."""
    return _cached("members", lambda: members_public().count())


def site_figures(*, version: ManifestoVersion | None) -> list[tuple[str, int]]:
    """Figures for the home page as (label, number). Domain apps add their own through an
    optional `site_figures()` on their AppConfig, so the site never imports them."""
    figures = [
        (_("members"), member_count()),
        (_("signed the manifesto"), signature_count(version=version)),
    ]
    return figures + _cached("apps", lambda: collect("site_figures"))
