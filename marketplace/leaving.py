"""The marketplace's part in a member leaving (peerhub.deletion, issue 21).

Blockers — money and work in flight are settled first, so that no one is left waiting:
- an order as buyer or seller that is not finished (completed, resolved, cancelled, refunded):
  deliver or accept it, cancel it, or let a dispute be resolved;
- a payout on its way to the member, or a refund on its way back to their card;
- a contribution to a prize purse still waiting for its payment;
- an earnings balance in any currency. The rule is simple and safe: **a balance must be paid out
  before the member may leave**; it is never forfeited silently, and there is no forfeiting
  button (money the platform kept would need a ledger line and a decision staff can stand by).

Anonymise: offers are paused (they take no new orders and leave the listings), a Premium
subscription stops renewing at the end of its period, public names on prize contributions are
blanked and stored API replays are deleted. Orders, their messages and reviews stay: they are
the counterpart's record too. The money ledger keeps every line, so every balance is unchanged."""

from django.db.models import Q
from django.urls import reverse

from peerhub.deletion import Blocker

from . import ledger
from .models import Contribution, IdempotentRequest, Offer, Order, Payout, Refund, Subscription
from .templatetags.marketplace import money

FINISHED = [
    Order.State.COMPLETED,
    Order.State.RESOLVED,
    Order.State.CANCELLED,
    Order.State.REFUNDED,
]


def deletion_blockers(*, user) -> list[Blocker]:
    blockers = []
    open_orders = (
        Order.objects.filter(Q(buyer=user) | Q(seller=user))
        .exclude(state__in=FINISHED)
        .order_by("pk")
    )
    blockers += [
        Blocker(
            f"Order #{order.pk} “{order.title}” is {order.get_state_display().lower()}: "
            "finish it, cancel it or have it refunded.",
            reverse("marketplace:order-detail", kwargs={"pk": order.pk}),
        )
        for order in open_orders
    ]
    if Payout.objects.filter(seller=user, state__in=Payout.OPEN).exists():
        blockers.append(
            Blocker(
                "A payout is on its way to you: wait until it arrives.",
                reverse("marketplace:payout-request"),
            )
        )
    if Refund.objects.filter(payment__payer=user, state__in=Refund.OPEN).exists():
        blockers.append(
            Blocker(
                "A refund is on its way back to you: wait until it arrives.",
                reverse("marketplace:order-list"),
            )
        )
    if Contribution.objects.filter(backer=user, state=Contribution.State.PENDING).exists():
        blockers.append(
            Blocker(
                "A prize contribution is waiting for its payment: pay or abandon it.",
                reverse("marketplace:earnings"),
            )
        )
    for currency, balance in sorted(ledger.balances_of(user).items()):
        if balance > 0:
            blockers.append(
                Blocker(
                    f"Your earnings balance is {money(balance, currency)}: request a payout "
                    "first (a balance is never forfeited).",
                    reverse("marketplace:payout-request"),
                )
            )
    return blockers


def anonymise(*, user, remove_drafts: bool) -> list[str]:
    paused = Offer.objects.filter(seller=user, is_active=True).update(is_active=False)
    Subscription.objects.filter(user=user, status__in=Subscription.LIVE).update(
        cancel_at_period_end=True
    )
    Contribution.objects.filter(backer=user).exclude(public_name="").update(public_name="")
    IdempotentRequest.objects.filter(user=user).delete()
    return [f"{paused} offer(s) paused"] if paused else []
