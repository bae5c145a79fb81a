"""An offer's tallies: completed orders, and the count and sum of their reviews' ratings.

Kept on the offer row at write time, so the marketplace listing reads them instead of grouping
every offer's orders and reviews. The order services call `offer_order_completed` and
`offer_review_added` in the transaction that makes the fact; `offer_tallies_rebuild` recounts
from the orders (the `offer_tallies_rebuild` command, and the migration's backfill).

Increments with F(): concurrent transactions each add their own under the row's lock, so none
is lost. An order never leaves `completed`, and a review is never edited or deleted."""

from django.db.models import F, Func, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import Offer, Order, OrderReview


def offer_order_completed(*, order: Order) -> None:
    Offer.objects.filter(pk=order.offer_id).update(completed_orders=F("completed_orders") + 1)


def offer_review_added(*, review: OrderReview) -> None:
    Offer.objects.filter(pk=review.order.offer_id).update(
        rating_count=F("rating_count") + 1, rating_sum=F("rating_sum") + review.rating
    )


def _recount(rows, function: str, field: str = "pk"):
    """`function` (COUNT, SUM) over `rows`, the outer offer's, as a correlated subquery without
    GROUP BY; 0 when there are none."""
    n = rows.order_by().annotate(n=Func(F(field), function=function)).values("n")
    return Coalesce(Subquery(n, output_field=IntegerField()), Value(0))


def offer_tallies_expressions() -> dict:
    """The tallies counted from the orders: the one definition the rebuild and the tests use."""
    orders = Order.objects.filter(offer=OuterRef("pk"), state=Order.State.COMPLETED)
    reviews = OrderReview.objects.filter(order__offer=OuterRef("pk"))
    return {
        "completed_orders": _recount(orders, "COUNT"),
        "rating_count": _recount(reviews, "COUNT"),
        "rating_sum": _recount(reviews, "SUM", "rating"),
    }


def offer_tallies_rebuild(*, offer_ids=None) -> int:
    """Recount the tallies of every offer (or of `offer_ids`) from the orders and reviews,
    set-based; returns how many offers were wrong and are now corrected."""
    expressions = offer_tallies_expressions()
    offers = Offer.objects.all() if offer_ids is None else Offer.objects.filter(pk__in=offer_ids)
    wrong = offers.annotate(**{f"true_{name}": e for name, e in expressions.items()}).exclude(
        completed_orders=F("true_completed_orders"),
        rating_count=F("true_rating_count"),
        rating_sum=F("true_rating_sum"),
    )
    return Offer.objects.filter(pk__in=wrong.values("pk")).update(**expressions)
