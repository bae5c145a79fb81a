"""Wash trading (issue 23): members who buy each other's services to look adopted and well
reviewed. The one rule, used by the order services, the reputation ledger's order lines, the
fitness adoption, the trust step's endorsements, the order page and the staff queue.

A completed order (buyer b, seller s) is a suspected wash trade when b and s belong to one
*circle*: a group of members in which

1. the money goes round: from any member of the group it comes back to them through completed
   orders between members of the group (a loop of any length: a pair buying from each other,
   three or four or more paying each other round); and
2. everyone trades mostly inside it: at least half of each member's completed orders, as buyer
   or seller, are with other members of the group.

The circles are found the same way in every pass: take the members who have both bought and
sold (only they can be on a loop), group them by the loops among them (the strongly connected
components of the "bought from" graph), and set aside whoever trades less than half inside
their group; regroup the rest and repeat until nobody is set aside. A member set aside could
not pass in any smaller group, so the circles do not depend on the order of the steps.

An honest customer buys and does not sell back; an honest seller sells to many buyers, so the
odd order from one of them back is a small share of their trade. A ring of puppets that pays
itself round, in pairs, through a third or round a loop of any size, trades with nobody else.

The verdict is a pair's (every completed order from b to s has it). It reads the orders of
the members linked to b and s through members who both buy and sell (their *trading
component*): a newly completed order between u and v can change the circles of u's and v's
component and of no other, which is what lets the order services keep `Order.wash_suspected`
up to date as each order completes (`wash_refresh_after`, a query per step of the component),
and a full pass (`wash_refresh_all`) find nothing to change.

A suspected order still settles: the money ledger is untouched. It gives no adoption to its
base solution, its review no reputation to the seller (a noted line of 0 on the ledger), and it
is no endorsement in the trust step.

Staff may overrule the rule for one order (`wash_clear`, `wash_flag`, from the staff queue),
with a reason, kept as a `WashDecision` (who, when, why). The latest decision holds in every
pass, incremental or full: a *cleared* order counts again while the rule finds the same circle
it found when staff cleared it, and is suspected again once new orders change that circle (a
new member joins the loop, or one leaves it); a *flagged* order stays suspected whatever the
rule says, until staff decide again."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from peerhub.exceptions import Conflict, DomainError, NotAllowed

from .models import Order, WashDecision
from .pagecache import orders_changed

# Stored as written in the reputation ledger's notes (English); pages translate them on show.
NOTE = gettext_noop("Not counted: buyer and seller trade mostly with each other.")
CLEARED_NOTE = gettext_noop("Counted: staff cleared this order of wash trading.")
# The share of each party's completed orders inside the circle from which it is "mostly".
MOSTLY = 0.5

Pair = tuple[int, int]  # (buyer id, seller id)


@dataclass(frozen=True)
class Verdict:
    """Why a pair is suspected (for the staff page): the circle and each party's share."""

    buyer_id: int
    seller_id: int
    circle: frozenset[int]
    buyer_share: float
    seller_share: float


class _Trades:
    """Completed orders as counts per (buyer, seller) pair, with the lookups the rule needs."""

    def __init__(self, pairs: Counter) -> None:
        self.pairs = pairs
        self.bought_from: dict[int, set[int]] = defaultdict(set)
        self.sold_to: dict[int, set[int]] = defaultdict(set)
        self.between: dict[int, Counter] = defaultdict(Counter)
        self.total: Counter = Counter()
        for (buyer, seller), n in pairs.items():
            self.bought_from[buyer].add(seller)
            self.sold_to[seller].add(buyer)
            self.between[buyer][seller] += n
            self.between[seller][buyer] += n
            self.total[buyer] += n
            self.total[seller] += n

    def share(self, member: int, circle: frozenset[int]) -> float:
        inside = sum(n for other, n in self.between[member].items() if other in circle)
        return inside / self.total[member] if self.total[member] else 0.0

    def circles(self) -> dict[int, frozenset[int]]:
        """Each member's circle (members in none are left out): the loops among members who
        both buy and sell, less whoever trades mostly outside their loop, until stable."""
        alive = {m for m in self.total if self.bought_from[m] and self.sold_to[m]}
        while True:
            found = {}
            for group in _loops(alive, self.bought_from):
                circle = frozenset(group)
                for member in group:
                    found[member] = circle
            out = {m for m in alive if len(found[m]) < 2 or self.share(m, found[m]) < MOSTLY}
            if not out:
                return found
            alive -= out

    def verdict(
        self, buyer: int, seller: int, circles: dict[int, frozenset[int]]
    ) -> Verdict | None:
        """The rule for one pair: its verdict when suspected, else None."""
        circle = circles.get(buyer)
        if circle is None or seller not in circle:
            return None
        return Verdict(buyer, seller, circle, self.share(buyer, circle), self.share(seller, circle))


def _loops(members: set[int], bought_from: dict[int, set[int]]) -> list[list[int]]:
    """The strongly connected components of the "bought from" graph among `members` (Tarjan's
    algorithm, without recursion): the groups in which money can go round."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups = []
    for root in sorted(members):
        if root in index:
            continue
        work = [(root, iter(sorted(bought_from[root] & members)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(bought_from[nxt] & members))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


def _completed(member_ids: Iterable[int] | None = None):
    orders = Order.objects.filter(state=Order.State.COMPLETED)
    if member_ids is not None:
        member_ids = list(member_ids)
        orders = orders.filter(Q(buyer_id__in=member_ids) | Q(seller_id__in=member_ids))
    return orders.order_by()


def _trades(member_ids: Iterable[int] | None = None) -> _Trades:
    """The completed orders of these members (or all), counted per pair: one query."""
    pairs: Counter = Counter()
    for buyer, seller in (
        _completed(member_ids).values_list("buyer_id", "seller_id").iterator(chunk_size=5000)
    ):
        pairs[(buyer, seller)] += 1
    return _Trades(pairs)


def trading_component(member_ids: Iterable[int]) -> tuple[set[int], _Trades]:
    """These members and everyone linked to them through members who both buy and sell, with
    all their completed orders: a query per step outwards. Every circle that holds one of
    these members lies inside (a loop passes only through members who both buy and sell)."""
    loaded: set[int] = set()
    frontier = set(member_ids)
    pairs: Counter = Counter()
    seen_orders: set[int] = set()
    while frontier:
        for pk, buyer, seller in _completed(frontier).values_list("pk", "buyer_id", "seller_id"):
            if pk not in seen_orders:
                seen_orders.add(pk)
                pairs[(buyer, seller)] += 1
        loaded |= frontier
        trades = _Trades(pairs)
        two_way = {m for m in frontier if trades.bought_from[m] and trades.sold_to[m]}
        frontier = {
            other for m in two_way for other in trades.bought_from[m] | trades.sold_to[m]
        } - loaded
    return loaded, _Trades(pairs)


def suspected_pairs(member_ids: Iterable[int] | None = None) -> dict[Pair, Verdict]:
    """The suspected pairs among all completed orders, or among the pairs these members belong
    to (reading their trading component, which the verdicts need)."""
    if member_ids is None:
        trades = _trades()
        candidates = trades.pairs.keys()
    else:
        members = set(member_ids)
        _, trades = trading_component(members)
        candidates = [pair for pair in trades.pairs if members & set(pair)]
    return _verdicts(trades, candidates)


def _verdicts(trades: _Trades, candidates) -> dict[Pair, Verdict]:
    circles = trades.circles()
    found = {}
    for buyer, seller in candidates:
        verdict = trades.verdict(buyer, seller, circles)
        if verdict is not None:
            found[(buyer, seller)] = verdict
    return found


def verdict_for(order: Order) -> Verdict | None:
    """Why this order is suspected (its pair's verdict), or None."""
    if order.state != Order.State.COMPLETED:
        return None
    return suspected_pairs([order.buyer_id, order.seller_id]).get((order.buyer_id, order.seller_id))


def _decisions(member_ids: Iterable[int] | None = None) -> dict[int, tuple[bool, list[int]]]:
    """The latest staff decision of each order of these members (or of all): {order: (suspected,
    circle)}, one query (decisions are few: staff write them by hand)."""
    rows = WashDecision.objects.order_by("order_id", "decided_at", "pk")
    if member_ids is not None:
        member_ids = list(member_ids)
        rows = rows.filter(Q(order__buyer_id__in=member_ids) | Q(order__seller_id__in=member_ids))
    return {
        order_id: (suspected, circle)
        for order_id, suspected, circle in rows.values_list("order_id", "suspected", "circle")
    }


def flag_wanted(verdict: Verdict | None, decision: tuple[bool, list[int]] | None) -> bool:
    """The flag an order gets: the rule's verdict, unless staff decided. A staff flag holds; a
    staff clearance holds while the rule finds the circle staff saw."""
    if decision is None:
        return verdict is not None
    suspected, circle = decision
    if suspected:
        return True
    return verdict is not None and sorted(verdict.circle) != sorted(circle)


def _mark(rows, suspected: dict[Pair, Verdict], decisions) -> list[int]:
    """Set `wash_suspected` on these (pk, buyer, seller, flag) rows to the verdicts and the
    staff decisions: two updates at most. Returns the orders whose flag changed."""
    now_on, now_off = [], []
    for pk, buyer, seller, flagged in rows:
        wanted = flag_wanted(suspected.get((buyer, seller)), decisions.get(pk))
        if wanted and not flagged:
            now_on.append(pk)
        elif flagged and not wanted:
            now_off.append(pk)
    if now_on:
        Order.objects.filter(pk__in=now_on).update(wash_suspected=True)
    if now_off:
        Order.objects.filter(pk__in=now_off).update(wash_suspected=False)
    if now_on or now_off:
        orders_changed(now_on + now_off)  # the orders API shows the flag
    return now_on + now_off


def wash_refresh(*, member_ids: Iterable[int]) -> list[int]:
    """Bring the flags of the completed orders of these members' trading component in line
    with the rule (the only ones a change of their orders can move); returns the orders whose
    flag changed (their review's ledger line and their solution's adoption)."""
    component, trades = trading_component(member_ids)
    rows = _completed(component).values_list("pk", "buyer_id", "seller_id", "wash_suspected")
    return _mark(list(rows), _verdicts(trades, trades.pairs.keys()), _decisions(component))


def wash_refresh_all() -> list[int]:
    """The full pass over every completed order (equal to the incremental flags: nothing to
    change when every completion ran `wash_refresh_after`)."""
    rows = _completed().values_list("pk", "buyer_id", "seller_id", "wash_suspected")
    return _mark(list(rows.iterator(chunk_size=5000)), suspected_pairs(), _decisions())


def wash_refresh_after(order: Order) -> list[int]:
    """An order just completed, inside its transaction: the flags of its buyer's and its
    seller's orders, then, after commit, the review lines and the adoption of the orders whose
    flag changed (the order itself is synced when reviewed, and its adoption on completion)."""
    changed = wash_refresh(member_ids=[order.buyer_id, order.seller_id])
    if order.pk in changed:  # the row was updated in place: the instance follows it
        order.wash_suspected = not order.wash_suspected
    others = [pk for pk in changed if pk != order.pk]
    if others:
        _resync(others)
    return changed


@transaction.atomic
def wash_refresh_everything() -> list[int]:
    """The full pass, then the review lines and adoption of the orders whose flag changed."""
    changed = wash_refresh_all()
    if changed:
        _resync(changed)
    return changed


def _resync(order_ids: list[int]) -> None:
    from peerhub import outbox
    from reputation import tasks as reputation_tasks

    from .tasks import sync_order_reputation

    rows = Order.objects.filter(pk__in=order_ids).values_list("pk", "base_solution_id", "review")
    solutions = set()
    for pk, solution_id, review_id in rows:
        if review_id is not None:
            outbox.enqueue(sync_order_reputation, pk)
        if solution_id is not None:
            solutions.add(solution_id)
    if solutions:
        outbox.enqueue(reputation_tasks.rankings_after_change, sorted(solutions))


# --- Staff decisions ------------------------------------------------------------------------


def _decide(*, order: Order, by, suspected: bool, reason: str) -> WashDecision:
    if not (by.is_authenticated and by.is_staff):
        raise NotAllowed(_("Only staff can decide about wash trades."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why (the reason is kept with the decision)."), code="reason")
    if len(reason) > 500:
        raise DomainError(_("Keep the reason under 500 characters."), code="reason")
    locked = Order.objects.select_for_update().get(pk=order.pk)  # decisions on it take turns
    if locked.state != Order.State.COMPLETED:
        raise Conflict(
            _("Only a completed order can be judged a wash trade."), code="not_completed"
        )
    if locked.wash_suspected == suspected:
        raise Conflict(
            _("This order is already suspected.")
            if suspected
            else _("This order is not suspected."),
            code="unchanged",
        )
    verdict = verdict_for(locked)
    decision = WashDecision.objects.create(
        order=locked,
        suspected=suspected,
        circle=sorted(verdict.circle) if verdict else [],
        reason=reason,
        decided_by=by,
        decided_at=timezone.now(),
    )
    Order.objects.filter(pk=locked.pk).update(wash_suspected=suspected)
    orders_changed([locked.pk])
    order.wash_suspected = suspected
    _resync([locked.pk])  # the review's ledger line and the solution's adoption follow
    return decision


@transaction.atomic
def wash_clear(*, order: Order, by, reason: str) -> WashDecision:
    """Staff clear a suspected order: it counts again (adoption, its review's line, a trust
    endorsement) while the rule finds the circle it finds now. Locks the order."""
    return _decide(order=order, by=by, suspected=False, reason=reason)


@transaction.atomic
def wash_flag(*, order: Order, by, reason: str) -> WashDecision:
    """Staff flag a completed order (a cleared one again, or one the rule spares): it is
    suspected whatever the rule says, until staff decide again. Locks the order."""
    return _decide(order=order, by=by, suspected=True, reason=reason)
