"""The marketplace's facts in the reputation ledger: a completed order that its buyer rated well
gives the seller reputation, by the reputation app's rules (`order_review_weight`), outside the
daily vote cap; a suspected wash trade (marketplace.wash) gives nothing, on a noted line of 0.
Reputation may not import the marketplace, so the marketplace derives the lines and hands them
over (`reputation.ledger.FactSource`, `sync_lines`)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery

from reputation import ledger
from reputation import rules as reputation_rules
from reputation.models import ReputationEvent

from . import wash
from .models import Order, OrderReview, WashDecision

KIND = ReputationEvent.Kind.ORDER_REVIEWED


def order_key(order_id: int) -> str:
    return f"order:{order_id}"


def order_review_lines(order_ids=None) -> dict[str, ledger.Line]:
    """What reviewed orders give today, for these orders or all: (rating - 3) x the weight to
    the seller for a completed order rated above 3; nothing, with a note, for a suspected wash
    trade."""
    weight = reputation_rules.rules().order_review_weight
    latest_decision = WashDecision.objects.filter(order_id=OuterRef("order_id")).order_by(
        "-decided_at", "-pk"
    )
    reviews = (
        OrderReview.objects.filter(order__state=Order.State.COMPLETED, rating__gt=3)
        .select_related("order")
        .annotate(staff_cleared=Subquery(latest_decision.values("suspected")[:1]))
    )
    if order_ids is not None:
        reviews = reviews.filter(order_id__in=list(order_ids))
    return {
        order_key(review.order_id): ledger.Line(
            beneficiary_id=review.order.seller_id,
            kind=KIND,
            # A suspected wash trade (marketplace.wash) shows once, as a line of 0 saying why.
            amount=Decimal(0) if review.order.wash_suspected else (review.rating - 3) * weight,
            fact_at=review.created_at,
            solution_id=review.order.base_solution_id,
            actor_id=review.order.buyer_id,
            note=wash.NOTE
            if review.order.wash_suspected
            else (wash.CLEARED_NOTE if review.staff_cleared is False else ""),
        )
        for review in reviews
    }


SOURCE = ledger.FactSource(kinds=(KIND,), desired=order_review_lines)


@transaction.atomic
def sync_order(order_id: int) -> set[int]:
    """Bring the ledger in line with this order's review; locks the order so that two syncs of
    it take turns."""
    if not Order.objects.select_for_update().filter(pk=order_id).exists():
        return set()
    return ledger.sync_lines(order_review_lines([order_id]), keys=[order_key(order_id)])
