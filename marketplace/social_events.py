"""Who hears about what happens in the marketplace, in one place. Services call these inside
their transaction; peerhub delivers after commit, so a rolled-back action notifies no one, and
never to whoever acted. Events without a member behind them (a provider's notification, the
beat tasks) pass no actor, so both sides hear of them.

Dedupe is per (recipient, kind, target, key): each order event happens once per order, so the
key is empty; repeated events (messages, payments, renewal periods) key on what repeats."""

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from peerhub.models import User
from peerhub.notifications import notify

from .models import Order, OrderMessage, OrderReview, Payment, Payout, Refund, Subscription
from .money import plain_money as money  # stored in the notification's text


def _order(kind: str, order: Order, recipients, *, by: User | None, key: str = "", **context):
    notify(kind, recipients, actor=by, target=order, key=key, context=context)


def _staff() -> QuerySet[User]:
    return User.objects.filter(is_staff=True, is_active=True)


# --- Orders ----------------------------------------------------------------------------------


def order_placed(order: Order) -> None:
    _order("order_placed", order, [order.seller_id], by=order.buyer)


def order_paid(order: Order) -> None:
    """The provider's word, not the buyer's click: both sides hear (the buyer a receipt)."""
    _order("order_paid", order, [order.buyer_id, order.seller_id], by=None)


def order_refunded_at_once(order: Order, *, payment: Payment) -> None:
    """Money that arrived for an order that could no longer take it went straight back.
    Keyed by the payment: a late duplicate payment is a refund of its own."""
    _order("order_refunded", order, [order.buyer_id], by=None, key=f"payment-{payment.pk}")


def order_started(order: Order, *, by: User) -> None:
    _order("order_started", order, [order.buyer_id], by=by)


def order_delivered(order: Order, *, by: User) -> None:
    _order("order_delivered", order, [order.buyer_id], by=by)


def order_declined(order: Order, *, by: User) -> None:
    _order("order_declined", order, [order.buyer_id], by=by)


def order_cancelled(order: Order, *, by: User) -> None:
    _order("order_cancelled", order, [order.buyer_id, order.seller_id], by=by)


def order_start_reminder(order: Order, *, deadline: str) -> None:
    """The seller, before the buyer may cancel an order they have not started (from the
    sweep, so no actor; once per order: services.orders claims it)."""
    _order("order_start_reminder", order, [order.seller_id], by=None, deadline=deadline)


def order_cancelled_unstarted(order: Order, *, by: User, deadline: str) -> None:
    """The seller hears that the buyer took the money back from an order left unstarted."""
    _order("order_cancelled_unstarted", order, [order.seller_id], by=by, deadline=deadline)


def order_completed(order: Order, *, by: User | None) -> None:
    """The seller hears their money is released. The buyer is invited to review, unless they
    accepted the delivery themselves: the order page they are on already asks for it."""
    _order("order_completed", order, [order.seller_id], by=by)
    if by is None or by.pk != order.buyer_id:
        notify(
            "order_review_requested",
            [order.buyer_id],
            actor=by,
            target=order,
            url=f"{order.get_absolute_url()}#review-title",
        )


def order_disputed(order: Order, *, by: User) -> None:
    """The seller, and staff, who decide disputes."""
    recipients = {order.seller_id, *_staff().values_list("pk", flat=True)}
    _order("order_disputed", order, recipients, by=by)


def order_resolved(order: Order, *, by: User) -> None:
    _order("order_resolved", order, [order.buyer_id, order.seller_id], by=by)


def order_message(message: OrderMessage) -> None:
    """The other side of the conversation; a message from staff goes to both."""
    order = message.order
    _order(
        "order_message", order, [order.buyer_id, order.seller_id], by=message.author,
        key=str(message.pk),
    )  # fmt: skip


def order_reviewed(review: OrderReview) -> None:
    order = review.order
    _order("order_reviewed", order, [order.seller_id], by=order.buyer, rating=review.rating)


# --- Payments and payouts --------------------------------------------------------------------


def payment_failed(payment: Payment) -> None:
    """The payer hears that the provider refused the payment (nothing was charged)."""
    if payment.order_id:
        target, url = payment.order, payment.order.get_absolute_url()
        what = f"order #{payment.order_id} “{payment.order.title}”"
    elif payment.subscription_id:
        target, url = payment.subscription, reverse("marketplace:subscription")
        what = "Premium"
    else:
        return
    notify(
        "payment_failed",
        [payment.payer_id],
        target=target,
        url=url,
        key=f"payment-{payment.pk}",
        context={"what": what},
    )


def payout_sent(payout: Payout) -> None:
    """A confirmation to the seller, who asked for it: the provider sends it, so no actor."""
    notify(
        "payout_sent",
        [payout.seller_id],
        target=payout,
        url=reverse("marketplace:order-list"),
        context={"amount": money(payout.amount, payout.currency)},
    )


def transfer_failed(transfer) -> None:
    """Staff hear of a refund or payout the provider refused on every attempt."""
    what = "A refund" if isinstance(transfer, Refund) else "A payout"
    notify(
        "transfer_failed",
        _staff(),
        target=transfer,
        url=reverse("marketplace:staff-money"),
        context={
            "what": what,
            "amount": money(transfer.amount, transfer.currency),
            "error": transfer.last_error[:120],
        },
    )


def provider_event_flagged(event) -> None:
    """Staff hear of a provider event that matched no payment or could not be applied."""
    notify(
        "provider_event_flagged",
        _staff(),
        target=event,
        url=reverse("marketplace:staff-money"),
        context={"provider": event.provider, "event": event.event_id, "outcome": event.outcome},
    )


# --- Subscriptions ---------------------------------------------------------------------------


def _day(moment):
    """The day, kept as "2027-03-03" and worded in each reader's language when shown
    (peerhub.notifications.DatedKind)."""
    return timezone.localtime(moment).date() if moment else ""


def _subscription(kind: str, subscription: Subscription, *, key: str = "", **context) -> None:
    notify(
        kind,
        [subscription.user_id],
        target=subscription,
        url=reverse("marketplace:subscription"),
        key=key,
        context={"until": _day(subscription.current_period_end), **context},
    )


def subscription_active(subscription: Subscription) -> None:
    _subscription("subscription_active", subscription)


def subscription_renewed(subscription: Subscription) -> None:
    """Once per period: the key is the period's end."""
    key = f"{subscription.current_period_end:%Y%m%d%H%M%S}"
    _subscription("subscription_renewed", subscription, key=key)


def subscription_past_due(subscription: Subscription) -> None:
    key = f"{subscription.grace_until:%Y%m%d%H%M%S}"
    grace = _day(subscription.grace_until)
    _subscription("subscription_past_due", subscription, key=key, grace=grace)


def subscription_lapsed(subscription: Subscription) -> None:
    _subscription("subscription_lapsed", subscription)


def subscription_cancel_requested(subscription: Subscription) -> None:
    """A confirmation for the member who cancelled (so no actor), once per period."""
    key = f"{subscription.current_period_end:%Y%m%d%H%M%S}"
    _subscription("subscription_cancel_requested", subscription, key=key)
