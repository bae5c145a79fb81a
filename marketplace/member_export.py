"""The marketplace's part of a member's data export (peerhub.exports, issue 21): their offers,
their orders as buyer and as seller with each order's timeline and review, the messages of
those orders and their files, payments, payouts, earnings, purse contributions and
subscriptions. A few queries per part, whatever the numbers.

The messages of an order are the correspondence of its two parties: the export of either holds
both sides, as the order page shows them, except the words (and files) of the other party that
moderation hid, which the order page does not show them either."""

from django.db.models import Prefetch, Q

from challenges import files
from peerhub.exports import ExportFile, ExportPart, rows_of

from .models import (
    Contribution,
    Earning,
    Offer,
    Order,
    OrderEvent,
    OrderMessage,
    OrderMessageFile,
    Payment,
    Payout,
    Subscription,
)


def order_file_path(*, order_id: int, message_id: int, path: str) -> str:
    return f"files/orders/{order_id}/{message_id}/{path}"


def _hidden_from(user):
    """The messages of the member's orders whose words they may not see: the other party's,
    hidden by moderation."""
    return (Q(hidden_at__isnull=False) | ~Q(hidden_reason="")) & ~Q(author=user)


def member_parts(*, user) -> list[ExportPart]:
    their_orders = Order.objects.filter(Q(buyer=user) | Q(seller=user))

    def orders() -> list[dict]:
        events = OrderEvent.objects.order_by("created_at", "pk")
        return [
            {
                "id": o.pk,
                "role": "buyer" if o.buyer_id == user.pk else "seller",
                "offer_id": o.offer_id,
                "title": o.title,
                "state": o.state,
                "brief": o.brief,
                "other_party": (o.seller if o.buyer_id == user.pk else o.buyer).username,
                "price": o.price,
                "currency": o.currency,
                "fee": o.fee,
                "refunded_amount": o.refunded_amount,
                "released_amount": o.released_amount,
                "resolution": o.resolution,
                "created_at": o.created_at,
                "paid_at": o.paid_at,
                "delivered_at": o.delivered_at,
                "completed_at": o.completed_at,
                "timeline": [
                    {
                        "from_state": e.from_state,
                        "to_state": e.to_state,
                        "note": e.note,
                        "by_you": e.actor_id == user.pk,
                        "at": e.created_at,
                    }
                    for e in o.events.all()
                ],
                "review": (
                    {"rating": review.rating, "text": review.text, "at": review.created_at}
                    if (review := getattr(o, "review", None)) is not None
                    else None
                ),
                "url": o.get_absolute_url(),
            }
            for o in their_orders.select_related("buyer", "seller", "review")
            .prefetch_related(Prefetch("events", queryset=events))
            .order_by("created_at", "pk")
        ]

    def messages() -> list[dict]:
        rows = []
        hidden = _hidden_from(user)
        for m in (
            OrderMessage.objects.filter(order__in=their_orders.values("pk"))
            .select_related("author")
            .prefetch_related(Prefetch("files", queryset=OrderMessageFile.objects.order_by("path")))
            .annotate(hidden_from_you=Q(hidden))
            .order_by("order_id", "created_at", "pk")
        ):
            words = not m.hidden_from_you
            rows.append(
                {
                    "order_id": m.order_id,
                    "id": m.pk,
                    "author": m.author.username,
                    "yours": m.author_id == user.pk,
                    "is_delivery": m.is_delivery,
                    "body": m.body if words else None,
                    "links": m.links if words else [],
                    "hidden_reason": m.hidden_reason,
                    "created_at": m.created_at,
                    "files": [
                        order_file_path(order_id=m.order_id, message_id=m.pk, path=f.path)
                        for f in m.files.all()
                    ]
                    if words
                    else [],
                }
            )
        return rows

    def message_files():
        for entry in (
            OrderMessageFile.objects.filter(message__order__in=their_orders.values("pk"))
            .exclude(message__in=OrderMessage.objects.filter(_hidden_from(user)).values("pk"))
            .select_related("blob", "message")
            .order_by("message__order_id", "message_id", "path")
        ):
            yield ExportFile(
                order_file_path(
                    order_id=entry.message.order_id, message_id=entry.message_id, path=entry.path
                ),
                lambda blob=entry.blob: files.blob_open(blob),
            )

    return [
        ExportPart(
            "marketplace/offers.json",
            lambda: rows_of(
                Offer.objects.filter(seller=user).order_by("id"),
                "id",
                "title",
                "description",
                "base_solution_id",
                "price",
                "currency",
                "delivery_days",
                "capacity",
                "is_active",
                "hidden_at",
                "hidden_reason",
                "created_at",
            ),
        ),
        ExportPart("marketplace/orders.json", orders),
        ExportPart("marketplace/order_messages.json", messages, message_files),
        ExportPart(
            "marketplace/payments.json",
            lambda: rows_of(
                Payment.objects.filter(payer=user).order_by("created_at", "pk"),
                "id",
                "provider",
                "order_id",
                "subscription_id",
                "contribution_id",
                "amount",
                "currency",
                "status",
                "failure_reason",
                "created_at",
            ),
        ),
        ExportPart(
            "marketplace/payouts.json",
            lambda: rows_of(
                Payout.objects.filter(seller=user).order_by("created_at", "pk"),
                "id",
                "provider",
                "amount",
                "currency",
                "state",
                "created_at",
                "done_at",
            ),
        ),
        ExportPart(
            "marketplace/earnings.json",
            lambda: rows_of(
                Earning.objects.filter(beneficiary=user).order_by("created_at", "pk"),
                "kind",
                "amount",
                "currency",
                "order_id",
                "solution_id",
                "node_id",
                "generation",
                "place",
                "award_gross",
                "created_at",
                challenge="purse__challenge__slug",
            ),
        ),
        ExportPart(
            "marketplace/contributions.json",
            lambda: rows_of(
                Contribution.objects.filter(backer=user).order_by("created_at", "pk"),
                "amount",
                "currency",
                "fee",
                "public_name",
                "state",
                "refunded_amount",
                "created_at",
                "paid_at",
                challenge="purse__challenge__slug",
            ),
        ),
        ExportPart(
            "marketplace/subscriptions.json",
            lambda: rows_of(
                Subscription.objects.filter(user=user).order_by("id"),
                "interval",
                "status",
                "price",
                "currency",
                "current_period_start",
                "current_period_end",
                "created_at",
                "ended_at",
                plan_name="plan__name",
            ),
        ),
    ]
