"""Reads for notifications: a member's list, grouped by day, the unread count, preferences."""

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from peerhub.models import Notification, NotificationPreference, User

from .kinds import Kind, all_kinds, get_kind


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
class TargetGroup:
    """Notifications of one kind about one thing, newest first: shown as one line ("3 new
    comments on your solution") with the newest one's text, the actors' avatars, and the rest
    behind a disclosure."""

    kind: Kind
    notifications: list[Notification]

    @property
    def latest(self) -> Notification:
        return self.notifications[0]

    @property
    def count(self) -> int:
        return len(self.notifications)

    @property
    def summary(self) -> str:
        return self.kind.summary(self.count)

    @property
    def unread(self) -> list[Notification]:
        return [n for n in self.notifications if n.read_at is None]

    @property
    def actors(self) -> list:
        """The distinct actors, newest first, at most three (for the avatars)."""
        seen, actors = set(), []
        for notification in self.notifications:
            key = notification.actor_id
            if key not in seen:
                seen.add(key)
                actors.append(notification.actor)
        return actors[:3]


@dataclass
class DayGroup:
    day: date
    label: str
    notifications: list[Notification]

    @property
    def targets(self) -> list[TargetGroup]:
        return group_by_target(self.notifications)


def _kind_of(name: str) -> Kind:
    try:
        return get_kind(name)
    except LookupError:  # a kind no app declares any more: still shown, with the bell
        return Kind(name=name, label=name.replace("_", " ").capitalize(), text="")


def page_of(url: str) -> str:
    """The page a notification leads to, without the fragment: comments on one solution lead
    to `/solutions/7/#comment-12`, `#comment-13`, ...: one page, one group."""
    return url.split("#", 1)[0]


def group_by_target(notifications) -> list[TargetGroup]:
    """Notifications of one kind about one thing together, in the order of their newest. The
    thing is the page they lead to (a comment's or a review's own target differs each time;
    they are about the solution they are on). Those that lead nowhere stay alone. No query: it
    groups the page already loaded."""
    groups: dict[tuple, TargetGroup] = {}
    for notification in notifications:
        if not notification.target_url:
            key: tuple = ("single", notification.pk)
        else:
            key = (notification.kind, page_of(notification.target_url))
        group = groups.get(key)
        if group is None:
            groups[key] = TargetGroup(
                kind=_kind_of(notification.kind), notifications=[notification]
            )
        else:
            group.notifications.append(notification)
    return list(groups.values())


def group_by_day(notifications) -> list[DayGroup]:
    today = timezone.localdate()
    labels = {today: _("Today"), today - timedelta(days=1): _("Yesterday")}
    groups = []
    for day, items in groupby(notifications, key=lambda n: timezone.localtime(n.created_at).date()):
        groups.append(
            DayGroup(
                day=day,
                label=labels.get(day, date_format(day, "DATE_FORMAT")),
                notifications=list(items),
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
