"""Reads for notifications: a member's list, grouped by day, the unread count, preferences."""

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from django.db.models import QuerySet
from django.utils import timezone

from peerhub.models import Notification, NotificationPreference, User

from .kinds import all_kinds


def notifications_for(
    *, user: User, unread: bool = False, kind: str = ""
) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user).select_related("actor")
    if kind:
        notifications = notifications.filter(kind=kind)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass
class DayGroup:
    day: date
    label: str
    notifications: list[Notification]


def group_by_day(notifications) -> list[DayGroup]:
    today = timezone.localdate()
    labels = {today: "Today", today - timedelta(days=1): "Yesterday"}
    groups = []
    for day, items in groupby(notifications, key=lambda n: timezone.localtime(n.created_at).date()):
        groups.append(
            DayGroup(
                day=day, label=labels.get(day, day.strftime("%-d %B %Y")), notifications=list(items)
            )
        )
    return groups


def group_by_kind(notifications) -> list[tuple[str, list[Notification]]]:
    """For the digest: kinds in registry order (important first), newest first within."""
    labels = {kind.name: kind.label for kind in all_kinds()}
    order = {kind.name: i for i, kind in enumerate(all_kinds())}
    ordered = sorted(
        notifications, key=lambda n: (order.get(n.kind, 999), -n.created_at.timestamp())
    )
    return [
        (labels.get(kind, kind), list(items))
        for kind, items in groupby(ordered, key=lambda n: n.kind)
    ]


def preferences_for(*, user: User) -> dict[str, str]:
    """Every registered kind with the member's channel for it (the default when unset)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind.name: chosen.get(kind.name, kind.default_channel) for kind in all_kinds()}
