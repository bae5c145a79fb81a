"""Notifications: the kinds registry and the one domain call other apps make.

    from peerhub.notifications import notify
    notify("solution_forked", [source.author], actor=by, target=fork)

`notify` runs after the surrounding transaction commits (a rolled-back action notifies no one),
never notifies the actor, skips members who turned the kind off, and dedupes: the same
(recipient, kind, target, key) is one notification however often it is notified."""

from .kinds import DatedKind, Kind, all_kinds, get_kind, register_kind
from .services import notify

__all__ = ["DatedKind", "Kind", "all_kinds", "get_kind", "notify", "register_kind"]
