"""The marketplace's queues on the staff dashboard (peerhub.staff): disputes to resolve,
money that needs a person (failed refunds and payouts, flagged provider events), and recent
suspected wash trades (marketplace.wash)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peerhub.staff import StaffQueue

from .models import Order, Payout, ProviderEvent, Refund, Transfer


def disputed_count() -> int:
    return Order.objects.filter(state=Order.State.DISPUTED).count()


def money_attention_count() -> int:
    """Refunds and payouts that failed after every attempt, and provider events flagged for
    staff: each needs a person (three counts in one query would need a union; these are three
    small indexed counts)."""
    failed = Transfer.State.FAILED
    return (
        Refund.objects.filter(state=failed).count()
        + Payout.objects.filter(state=failed).count()
        + ProviderEvent.objects.filter(state__in=ProviderEvent.NEEDS_STAFF).count()
    )


# Suspected wash trades completed this recently count on the dashboard (the page lists all).
WASH_RECENT = timedelta(days=30)


def wash_recent_count() -> int:
    since = timezone.now() - WASH_RECENT
    return Order.objects.filter(wash_suspected=True, completed_at__gte=since).count()


def queues() -> list[StaffQueue]:
    money = reverse("marketplace:staff-money")
    return [
        StaffQueue(
            key="disputes",
            title=_("Disputed orders"),
            count=disputed_count(),
            url=money + "#disputes-title",
            description=_("Buyers and sellers who disagree: read the order, then resolve it."),
            position=20,
        ),
        StaffQueue(
            key="money",
            title=_("Refunds, payouts and provider events"),
            count=money_attention_count(),
            url=money,
            description=_(
                "Refunds or payouts that failed after every attempt, and provider "
                "events that moved no money: settle them by hand."
            ),
            position=30,
        ),
        StaffQueue(
            key="wash",
            title=_("Suspected wash trades"),
            count=wash_recent_count(),
            url=reverse("marketplace:staff-wash"),
            description=_(
                "Orders completed in the last 30 days between members who trade mostly "
                "with each other: they settled, but give no adoption and no reputation. Look for "
                "sock puppets behind them."
            ),
            position=40,
        ),
    ]
