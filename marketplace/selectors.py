"""Reads for the marketplace: offers with their figures, orders by role, balances, staff money."""

from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Now, NullIf, TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from challenges.models import Challenge
from challenges.permissions import visible_solutions_q
from peerhub.models import User
from reputation.models import ReputationScore

from . import ledger, permissions
from .models import (
    LedgerAccount,
    LedgerEntry,
    Offer,
    Order,
    OrderMessageFile,
    OrderReview,
    Payout,
    ProviderEvent,
    Refund,
    Transfer,
    offer_rating_rank,
)


def _rating():
    """The mean review rating from the offer's tallies; null without reviews."""
    return Cast("rating_sum", FloatField()) / NullIf(F("rating_count"), 0)


OFFER_SORTS = {
    "newest": ("-created_at", "-pk"),
    "price": ("price", "pk"),
    "-price": ("-price", "-pk"),
    "delivery": ("delivery_days", "pk"),
    "rating": (offer_rating_rank().desc(), "-completed_orders", "-pk"),
}


def offers_annotated(queryset: QuerySet[Offer] | None = None) -> QuerySet[Offer]:
    """Offers with the seller's trust level, completed orders, mean rating and the orders
    holding a slot: the tallies come from the offer row (services/tallies.py) and the slots
    from a correlated count, so a list page is one query without grouping, whatever its
    length."""
    queryset = Offer.objects.all() if queryset is None else queryset
    slots = (
        Order.objects.filter(Order.holds_slot(), offer=OuterRef("pk"))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))  # an aggregate without GROUP BY
        .values("n")
    )
    # The seller's level as a correlated subquery rather than through select_related's joins,
    # so that the page's count joins nothing but the base solution its filter needs.
    level = (
        ReputationScore.objects.filter(user=OuterRef("seller_id"))
        .order_by()
        .values_list(Coalesce("pinned_level", "trust_level"), flat=True)[:1]
    )
    return queryset.select_related("seller", "base_solution", "base_solution__challenge").annotate(
        seller_level=Coalesce(Subquery(level, output_field=IntegerField()), Value(0)),
        completed=F("completed_orders"),
        active=Coalesce(Subquery(slots, output_field=IntegerField()), Value(0)),
        rating=_rating(),
    )


def slots_now(offer: Offer) -> int:
    """How many of the offer's slots are taken now (Order.holds_slot), for a row read by
    offer_get some time ago (a kept copy): the slots it read, or, once one of its reservations
    has lapsed since, counted again, with when the next one lapses (`holds_lapse_at`)."""
    lapse = getattr(offer, "holds_lapse_at", None)
    if lapse is None or lapse > timezone.now():
        return offer.active
    pending = Q(state=Order.State.PENDING_PAYMENT, reserved_until__gt=Now())
    now = Order.objects.filter(Order.holds_slot(), offer=offer).aggregate(
        taken=Count("pk"), lapse=Min("reserved_until", filter=pending)
    )
    offer.holds_lapse_at = now["lapse"]
    return now["taken"]


def offer_currencies() -> list[str]:
    """The currencies active offers are priced in, for the list's currency choice (one
    indexed DISTINCT over a handful of codes)."""
    codes = Offer.objects.filter(is_active=True, hidden_at__isnull=True).values_list(
        "currency", flat=True
    )
    return sorted(set(codes.order_by().distinct()))


def lists_like_a_visitor(user) -> bool:
    """Whether the offer list shows `user` what it shows a visitor as far as offers go: they
    have no offer of their own that the list shows only its seller (paused, or hidden by
    moderation). Visibility of the base solutions is challenges.permissions.sees_as_visitor."""
    if not getattr(user, "is_authenticated", False):
        return True
    return not unlisted_offers(user).exists()


def unlisted_offers(user, *, solution=None) -> QuerySet[Offer]:
    """The member's offers (on `solution`, when given) that the lists show only to them: paused,
    or hidden by moderation. A visitor has none."""
    if not getattr(user, "is_authenticated", False):
        return Offer.objects.none()
    offers = Offer.objects.filter(seller=user).exclude(is_active=True, hidden_at__isnull=True)
    return offers if solution is None else offers.filter(base_solution=solution)


def offer_list(
    *,
    user,
    q: str = "",
    challenge: str = "",
    value: str = "",
    min_price: int | None = None,
    max_price: int | None = None,
    max_delivery_days: int | None = None,
    seller_level: int | None = None,
    sort: str = "newest",
    currency: str = "",
) -> QuerySet[Offer]:
    """Active offers (a seller also sees their paused ones). Filters by words, the base
    solution's challenge or manifesto value, currency, price (minor units: of `currency` when
    given), delivery time and the seller's level.
    Every filter keeps one row per offer (no join that multiplies rows), so no DISTINCT."""
    # An offer hidden by moderation leaves the list; its page keeps a stub that says why.
    visible = Q(is_active=True, hidden_at__isnull=True)
    if getattr(user, "is_authenticated", False):
        visible |= Q(seller=user)
    offers = Offer.objects.filter(visible)
    # A base solution the viewer may not see is not shown, and does not match filters either:
    # checked on the joined solution's own row (and the few visible challenges), never by
    # collecting every visible solution.
    offers = offers.filter(
        Q(base_solution__isnull=True) | visible_solutions_q(user, prefix="base_solution__")
    )
    if q:
        offers = offers.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if challenge:
        offers = offers.filter(base_solution__challenge__slug=challenge)
    if value:
        serving = Challenge.values.through.objects.filter(
            challenge_id=OuterRef("base_solution__challenge_id"), value__slug=value
        )
        offers = offers.filter(Exists(serving))
    if currency:
        offers = offers.filter(currency=currency.upper())
    if min_price is not None:
        offers = offers.filter(price__gte=min_price)
    if max_price is not None:
        offers = offers.filter(price__lte=max_price)
    if max_delivery_days is not None:
        offers = offers.filter(delivery_days__lte=max_delivery_days)
    offers = offers_annotated(offers)
    if seller_level is not None:
        offers = offers.filter(seller_level__gte=seller_level)
    return offers.order_by(*OFFER_SORTS.get(sort, OFFER_SORTS["newest"]))


def offer_get(*, user, pk: int) -> Offer:
    """A listed offer; a paused one (or one built on a solution the viewer cannot see) only
    for its seller, staff and the members who ordered it."""
    # With when its first unpaid reservation lapses (a slot it holds frees itself then, with
    # no write: see `slots_now`).
    lapses = Order.objects.filter(
        offer=OuterRef("pk"), state=Order.State.PENDING_PAYMENT, reserved_until__gt=Now()
    ).order_by("reserved_until")
    offer = (
        offers_annotated(Offer.objects.filter(pk=pk))
        .annotate(holds_lapse_at=Subquery(lapses.values("reserved_until")[:1]))
        .first()
    )
    if offer is None:
        raise Http404(_("No such offer."))
    if offer_list(user=user).filter(pk=pk).exists() or permissions.can_edit_offer(user, offer):
        return offer
    if offer.hidden_at is not None:
        return offer  # its page is the public stub (issue 21)
    if getattr(user, "is_authenticated", False) and offer.orders.filter(buyer=user).exists():
        return offer
    raise Http404(_("No such offer."))


def offer_reviews(offer: Offer) -> QuerySet[OrderReview]:
    return OrderReview.objects.filter(order__offer=offer).select_related("order__buyer")


def seller_reviews(seller) -> QuerySet[OrderReview]:
    return OrderReview.objects.filter(order__seller=seller).select_related(
        "order__buyer", "order__offer"
    )


def offers_for_solution(*, user, solution) -> QuerySet[Offer]:
    return offer_list(user=user).filter(base_solution=solution)


def orders_of(user, *, role: str = "") -> QuerySet[Order]:
    """The member's orders: as buyer, as seller, or both. Staff see disputes too."""
    mine = Q(buyer=user) | Q(seller=user)
    if role == "buyer":
        mine = Q(buyer=user)
    elif role == "seller":
        mine = Q(seller=user)
    return Order.objects.filter(mine).select_related("buyer", "seller", "offer")


def with_names(rows: QuerySet, *members: str) -> QuerySet:
    """`rows` with every column of their own and the members they link to (`members`: the
    relations' names) joined by name only (`User.NAME_FIELDS`): a list builds no more of them
    than it shows, and a kept copy (peerhub.pagecache) holds nothing of them but their names."""
    own = (f.attname for f in rows.model._meta.concrete_fields)
    names = (f"{member}__{field}" for member in members for field in User.NAME_FIELDS)
    return rows.select_related(*members).only(*own, *names)


def order_rows(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Orders for a list: their parties by name only, their offer by id."""
    return with_names(orders.select_related(None), "buyer", "seller")


def orders_visible_to(user) -> QuerySet[Order]:
    if permissions.is_staff(user):
        return Order.objects.select_related("buyer", "seller", "offer")
    return orders_of(user)


def order_get(*, user, pk: int) -> Order:
    order = orders_visible_to(user).filter(pk=pk).first()
    if order is None:
        raise Http404(_("No such order."))
    return order


def order_timeline(order: Order):
    return order.events.select_related("actor")


def order_messages(order: Order):
    files = Prefetch("files", queryset=OrderMessageFile.objects.select_related("blob"))
    return order.messages.select_related("author").prefetch_related(files)


def balance_of(user) -> dict:
    """The member's payable balance per currency, what they earned and what they took out."""
    balances = ledger.balances_of(user)
    paid_out = dict(
        Payout.objects.filter(seller=user)
        .exclude(state=Payout.State.FAILED)
        .values("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    currencies = sorted(set(balances) | set(paid_out))
    return {
        c: {"available": balances.get(c, 0), "paid_out": paid_out.get(c, 0)} for c in currencies
    }


def platform_money() -> dict:
    """For staff: revenue by month, escrow and clearing per currency."""
    by_month = (
        LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.REVENUE)
        .annotate(month=TruncMonth("transaction__created_at"))
        .values("month", "account__currency")
        .annotate(total=Sum("amount"))
        .order_by("-month", "account__currency")
    )
    totals = (
        LedgerEntry.objects.filter(account__user__isnull=True)
        .values("account__kind", "account__currency")
        .annotate(total=Sum("amount"))
        .order_by("account__kind", "account__currency")
    )
    held = (
        LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.PAYABLE)
        .values("account__currency")
        .annotate(total=Sum("amount"))
    )
    return {"revenue_by_month": list(by_month), "platform": list(totals), "payable": list(held)}


def money_in_flight(*, limit: int = 50) -> dict:
    """For staff: what the providers still owe an answer on, and what needs a person.
    Flagged provider events, events waiting to be applied, and refunds and payouts that are
    not done (failed first), each list bounded."""
    events = ProviderEvent.objects.select_related("payment")
    transfers = {}
    for name, model, related in (("refunds", Refund, "order"), ("payouts", Payout, "seller")):
        open_or_failed = model.objects.exclude(state=Transfer.State.DONE).select_related(related)
        transfers[name] = list(
            open_or_failed.order_by(
                Case(When(state=Transfer.State.FAILED, then=0), default=1), "created_at"
            )[:limit]
        )
    return {
        "flagged_events": list(
            events.filter(state__in=ProviderEvent.NEEDS_STAFF).order_by("-received_at")[:limit]
        ),
        "waiting_events": list(
            events.filter(state=ProviderEvent.State.RECEIVED).order_by("received_at")[:limit]
        ),
        "recent_events": list(events.order_by("-received_at", "-pk")[:20]),
        **transfers,
    }


def order_money_flow(order: Order) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(transaction__order=order)
        .select_related("transaction", "account__user")
        .order_by("transaction__created_at", "transaction_id", "pk")
    )


@dataclass(frozen=True)
class MoneyRow:
    """One line of an order's money panel (the page's and the API's `money`): `key` is stable
    for clients, `amount` is in the order's minor units, `status` says how sure it is."""

    key: str
    label: str
    amount: int
    status: str = ""  # "" (done), "expected", "on_its_way", "refunded" or "failed"

    @property
    def status_label(self) -> str:
        return str(MONEY_STATUS_LABELS.get(self.status, ""))


MONEY_STATUS_LABELS = {
    "expected": gettext_lazy("expected"),
    "on_its_way": gettext_lazy("on its way"),
    "refunded": gettext_lazy("refunded"),
    "failed": gettext_lazy("delayed: staff are on it"),
}


STATE = Order.State
HELD = (STATE.PAID, STATE.IN_PROGRESS, STATE.DELIVERED, STATE.DISPUTED)
SETTLED = (STATE.COMPLETED, STATE.RESOLVED, STATE.REFUNDED)


def _refund_progress(refunds: list[Refund]) -> str:
    states = {refund.state for refund in refunds}
    if not states:
        return ""
    if Refund.State.FAILED in states:
        return "failed"
    if states & set(Transfer.OPEN):
        return "on_its_way"
    return "refunded"


def _order_refunds(order: Order) -> tuple[list[Refund], list[Refund]]:
    """The order's Refund rows (prefetched by list views) in two groups: the refund of its
    price, and payments returned at once because the order could not take them (a late or
    duplicate payment). Settlement refunds under the order's settlement key
    (services.orders._settle); an order refunded as its payment arrived has no settlement,
    and its first returned payment is that refund."""
    refunds = sorted(order.refunds.all(), key=lambda refund: refund.pk)
    from .services.orders import settlement_key  # services read selectors, not the reverse

    settlement = settlement_key(order)
    own = [refund for refund in refunds if refund.idempotency_key == settlement]
    returned = [refund for refund in refunds if refund.idempotency_key != settlement]
    if order.state == STATE.REFUNDED and not own and order.refunded_amount:
        own, returned = returned[:1], returned[1:]
    return own, returned


def order_money_summary(order: Order) -> list[MoneyRow]:
    """What happened to the order's money, as the buyer and the seller should read it: the
    price; while it is held, the escrow and the fee and share still only expected; once
    settled, what the buyer got back (with the refund's progress), what the seller got and
    the fee actually kept. One query (the order's refunds) unless they are prefetched."""
    rows = [MoneyRow("price", _("Price"), order.price)]
    if order.state == STATE.PENDING_PAYMENT:
        return rows + _expected(order, released=False)
    own, returned = _order_refunds(order)
    if order.state in HELD:
        released = order.state == STATE.DISPUTED
        rows += [
            MoneyRow("held", _("Held in escrow"), order.price),
            *_expected(order, released=released),
        ]
    elif order.state in SETTLED:
        if order.refunded_amount:
            rows.append(
                MoneyRow(
                    "refunded",
                    _("Refunded to the buyer"),
                    order.refunded_amount,
                    _refund_progress(own),
                )
            )
        rows += [
            MoneyRow("seller_paid", _("Paid to the seller"), order.released_amount),
            MoneyRow("fee_kept", _("Platform fee kept"), order.fee_collected),
        ]
    elif not returned:  # cancelled before any money arrived
        rows.append(MoneyRow("charged", _("Charged"), 0))
    if returned:
        late = order.state == STATE.CANCELLED
        rows.append(
            MoneyRow(
                "returned",
                _("Payment returned") if late else _("Extra payment returned"),
                sum(refund.amount for refund in returned),
                _refund_progress(returned),
            )
        )
    return rows


def _expected(order: Order, *, released: bool) -> list[MoneyRow]:
    """The fee and the seller's share still to come: once the order completes, or (disputed)
    if staff release the money."""
    percent = number_format((order.fee_rate * 100).normalize())
    if released:
        fee = _("Platform fee ({percent} %), if released").format(percent=percent)
        share = _("For the seller, if released")
    else:
        fee = _("Platform fee ({percent} %), once completed").format(percent=percent)
        share = _("For the seller, once completed")
    return [
        MoneyRow("fee_expected", fee, order.fee, "expected"),
        MoneyRow("seller_expected", share, order.seller_share, "expected"),
    ]


def adoption_for_challenges(challenge_ids) -> dict[int, list[tuple[int, int]]]:
    """Active offers and completed orders per base solution of these challenges (fitness
    adoption). Orders count by the base solution they snapshotted when placed; a suspected wash
    trade (marketplace.wash) does not count."""
    challenge_ids = list(challenge_ids)
    offers = dict(
        Offer.objects.filter(base_solution__challenge_id__in=challenge_ids, is_active=True)
        .values("base_solution_id")
        .annotate(n=Count("pk"))
        .values_list("base_solution_id", "n")
    )
    orders = dict(
        Order.objects.filter(
            base_solution__challenge_id__in=challenge_ids,
            state=Order.State.COMPLETED,
            wash_suspected=False,
        )
        .values("base_solution_id")
        .annotate(n=Count("pk"))
        .values_list("base_solution_id", "n")
    )
    return {pk: [(offers.get(pk, 0), orders.get(pk, 0))] for pk in offers.keys() | orders.keys()}


def completed_order_endorsements() -> list[tuple[int, int, int]]:
    """(buyer, seller, completed orders) for each pair of distinct members: a buyer who
    completed an order endorses its seller (reputation's trust step, through a hook); a
    suspected wash trade (marketplace.wash) endorses nobody."""
    return list(
        Order.objects.filter(state=Order.State.COMPLETED, wash_suspected=False)
        .exclude(buyer_id=F("seller_id"))
        .values("buyer_id", "seller_id")
        .annotate(n=Count("pk"))
        .values_list("buyer_id", "seller_id", "n")
        .order_by()
    )


# --- Mentions --------------------------------------------------------------------------------


def mention_suggestions_for(*, user, offer: str = "", order: str = "", query: str = ""):
    """Members `user` may @mention while writing about an order (its buyer, seller and staff
    only; `order="new"` with `offer`: the brief of an order about to be placed) or an offer
    (whoever may see it; without either, a new offer, which will be public): no one who could
    not open the page is suggested. 404 for an order or offer `user` cannot see."""
    from peerhub.inputs import parse_id
    from peerhub.mentions import mention_suggestions

    if order == "new" and offer:
        # The brief of an order about to be placed: its buyer-to-be, the seller and staff.
        pk = parse_id(offer)
        if pk is None:
            raise Http404(_("No such offer."))
        seller_id = offer_get(user=user, pk=pk).seller_id
        audience = User.objects.filter(is_active=True).filter(
            Q(pk__in=(user.pk, seller_id)) | Q(is_staff=True)
        )
    elif order:
        pk = parse_id(order)
        if pk is None:
            raise Http404(_("No such order."))
        audience = permissions.viewers_of_order(order_get(user=user, pk=pk))
    elif offer:
        pk = parse_id(offer)
        if pk is None:
            raise Http404(_("No such offer."))
        audience = permissions.viewers_of_offer(offer_get(user=user, pk=pk))
    else:
        audience = User.objects.filter(is_active=True)
    return mention_suggestions(audience=audience, query=query, writer=user)


def wash_suspected_orders():
    """Every suspected wash trade (marketplace.wash), newest completed first."""
    return (
        Order.objects.filter(wash_suspected=True)
        .select_related("buyer", "seller")
        .order_by("-completed_at", "-pk")
    )


def wash_rows(orders) -> list[tuple[Order, object]]:
    """(order, its pair's verdict or None) for a page of suspected orders: the verdicts of all
    their members in two queries."""
    from . import wash

    orders = list(orders)
    members = {m for order in orders for m in (order.buyer_id, order.seller_id)}
    verdicts = wash.suspected_pairs(members) if members else {}
    return [(order, verdicts.get((order.buyer_id, order.seller_id))) for order in orders]


def wash_decisions_recent(limit: int = 50):
    """The latest staff decisions about wash trades (marketplace.wash), newest first, with the
    order's members and whoever decided: one query."""
    from .models import WashDecision

    return list(
        WashDecision.objects.select_related(
            "order", "order__buyer", "order__seller", "decided_by"
        ).order_by("-decided_at", "-pk")[:limit]
    )
