"""Wash trading (issue 23, marketplace.wash): a completed order whose seller's money comes back
to its buyer, between members who trade mostly inside that circle, still settles but gives no
adoption, no order-review reputation (a noted line of 0) and no trust endorsement; the flag the
services keep as orders complete equals the full pass, and the ledger's incremental lines equal
the full rebuild."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import TestCase
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from marketplace import ledger as money_ledger
from marketplace import selectors, services, wash
from marketplace.models import Order, WashDecision
from marketplace.reputation_facts import order_key, order_review_lines
from marketplace.staff import wash_recent_count
from peerhub.exceptions import DomainError
from reputation import fitness, ledger
from reputation.models import ReputationEvent, SolutionScore
from tests.factories import ChallengeFactory, make_solution
from tests.helpers import database_examples
from tests.marketplace.factories import OfferFactory, delivered_order, make_seller

pytestmark = pytest.mark.django_db

Kind = ReputationEvent.Kind


class Market:
    """Members who sell (each with one offer) and buy from each other through the services."""

    def __init__(self, n: int, *, base_solutions: bool = False) -> None:
        self.members = [make_seller(mfa=False) for _ in range(n)]
        self.challenge = ChallengeFactory() if base_solutions else None
        self.offers = [
            OfferFactory(
                seller=m,
                capacity=50,
                base_solution=make_solution(self.challenge, author=m) if base_solutions else None,
            )
            for m in self.members
        ]

    def trade(self, buyer: int, seller: int, *, rating: int | None = 5) -> Order:
        """Member `buyer` orders member `seller`'s service; it is delivered, accepted and rated
        (the callbacks queued on commit run, as after a real commit)."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            order = delivered_order(offer=self.offers[seller], buyer=self.members[buyer])
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.order_accept(order=order, by=order.buyer)
        if rating is not None:
            with TestCase.captureOnCommitCallbacks(execute=True):
                services.order_review_save(order=order, by=order.buyer, rating=rating)
        order.refresh_from_db()
        return order


def flags() -> dict[int, bool]:
    return dict(Order.objects.values_list("pk", "wash_suspected"))


def test_a_one_way_order_is_not_suspected():
    market = Market(2)
    order = market.trade(0, 1)
    assert not order.wash_suspected
    assert wash.verdict_for(order) is None


def test_a_pair_that_buys_from_each_other_is_suspected_both_ways():
    market = Market(2)
    first = market.trade(0, 1)
    assert not first.wash_suspected  # the money has not come back yet
    second = market.trade(1, 0)
    first.refresh_from_db()
    assert first.wash_suspected and second.wash_suspected
    verdict = wash.verdict_for(first)
    assert verdict.circle == {market.members[0].pk, market.members[1].pk}
    assert (verdict.buyer_share, verdict.seller_share) == (1.0, 1.0)


def test_a_ring_of_three_paying_each_other_round_is_suspected():
    market = Market(3)
    orders = [market.trade(0, 1), market.trade(1, 2), market.trade(2, 0)]
    assert all(Order.objects.get(pk=o.pk).wash_suspected for o in orders)
    verdict = wash.verdict_for(orders[0])
    assert verdict.circle == {m.pk for m in market.members}


def test_a_seller_of_many_who_buys_once_from_a_customer_is_not_suspected():
    """The odd order back is a small share of an honest seller's trade."""
    market = Market(6)
    for buyer in range(1, 6):
        market.trade(buyer, 0)
    back = market.trade(0, 1)
    assert not any(flags().values())
    assert wash.verdict_for(back) is None


def test_the_verdict_lifts_once_the_pair_trades_mostly_with_others():
    market = Market(6)
    there, back = market.trade(0, 1), market.trade(1, 0)
    assert Order.objects.get(pk=there.pk).wash_suspected
    for seller in (2, 3, 4):
        market.trade(0, seller)
    # Member 0 now trades 2 of 5 orders with member 1: not mostly inside the circle.
    assert not Order.objects.get(pk=there.pk).wash_suspected
    assert not Order.objects.get(pk=back.pk).wash_suspected


def test_a_suspected_order_settles_as_usual():
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    assert order.wash_suspected and order.state == Order.State.COMPLETED
    assert order.released_amount == order.price - order.fee
    assert order.fee_collected == order.fee
    assert money_ledger.audit() == []


@pytest.mark.django_db(transaction=True)
def test_its_review_earns_the_seller_a_noted_line_of_nothing():
    market = Market(2)
    first = market.trade(0, 1)
    line = ReputationEvent.objects.get(fact_key=order_key(first.pk))
    assert line.amount == Decimal(20)  # counted while the money had not come back
    second = market.trade(1, 0)
    # The second completion flags the first: its line is taken back, saying why.
    for key in (order_key(first.pk), order_key(second.pk)):
        lines = ReputationEvent.objects.filter(fact_key=key).order_by("seq")
        assert lines.last().note == wash.NOTE
        assert sum(line.amount for line in lines) == 0
    assert ledger.sync_everything() == 0


def test_the_fact_source_gives_a_noted_zero_for_suspected_orders():
    market = Market(2)
    first, second = market.trade(0, 1), market.trade(1, 0, rating=4)
    lines = order_review_lines([first.pk, second.pk])
    assert {line.amount for line in lines.values()} == {Decimal(0)}
    assert {line.note for line in lines.values()} == {wash.NOTE}


def test_suspected_orders_give_no_adoption():
    market = Market(2, base_solutions=True)
    market.trade(0, 1)
    fitness.recompute_challenge(market.challenge.pk)
    score = SolutionScore.objects.get(solution=market.offers[1].base_solution)
    assert score.components["adoption"]["orders"] == 1
    market.trade(1, 0)
    fitness.recompute_challenge(market.challenge.pk)
    for offer in market.offers:
        part = SolutionScore.objects.get(solution=offer.base_solution).components["adoption"]
        assert (part["offers"], part["orders"]) == (1, 0)


def test_suspected_orders_endorse_nobody_in_the_trust_step():
    market = Market(4)
    market.trade(0, 1)
    market.trade(1, 0)
    market.trade(2, 3)
    a, b, c, d = (m.pk for m in market.members)
    assert selectors.completed_order_endorsements() == [(c, d, 1)]
    assert (a, b, 1) not in selectors.completed_order_endorsements()


def test_the_full_pass_repairs_flags_no_completion_refreshed():
    market = Market(3)
    orders = [market.trade(0, 1), market.trade(1, 0), market.trade(2, 1)]
    Order.objects.update(wash_suspected=False)  # as before the rule
    assert wash_recent_count() == 0
    assert sorted(wash.wash_refresh_everything()) == sorted(o.pk for o in orders[:2])
    assert wash.wash_refresh_all() == []
    assert wash_recent_count() == 2


# --- Incremental = full ---------------------------------------------------------------------

trades = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4), st.sampled_from([None, 3, 4, 5])).filter(
        lambda t: t[0] != t[1]
    ),
    min_size=1,
    max_size=10,
)


@database_examples("WASH_EXAMPLES", 12)
@given(sequence=trades)
def test_flags_kept_as_orders_complete_equal_the_full_pass_and_the_ledger_the_rebuild(sequence):
    with transaction.atomic():
        market = Market(5)
        for buyer, seller, rating in sequence:
            market.trade(buyer, seller, rating=rating)
        # The flags the completions kept are the rule applied to every order at once...
        assert wash.wash_refresh_all() == []
        suspected = wash.suspected_pairs()
        for pk, buyer, seller, flag in Order.objects.values_list(
            "pk", "buyer_id", "seller_id", "wash_suspected"
        ):
            assert flag == ((buyer, seller) in suspected), pk
        # ...and the order lines synced one by one are what the full rebuild derives.
        desired = order_review_lines()
        for key, line in desired.items():
            held = ReputationEvent.objects.filter(fact_key=key)
            assert sum(e.amount for e in held) == line.amount, key
        assert ledger.sync_everything() == 0
        transaction.set_rollback(True)


# --- Pages ----------------------------------------------------------------------------------


def test_the_order_page_says_why_it_does_not_count(client):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    client.force_login(order.buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert wash.NOTE in page
    honest = Market(2).trade(0, 1)
    client.force_login(honest.buyer)
    assert wash.NOTE not in client.get(honest.get_absolute_url()).content.decode()


def test_the_api_order_says_whether_it_is_suspected(api_client):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    api_client.force_authenticate(order.seller)
    body = api_client.get(f"/api/orders/{order.pk}/").json()
    assert body["wash_suspected"] is True


def test_staff_see_suspected_orders_with_their_circle(client, staff_user, user):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    url = reverse("marketplace:staff-wash")
    client.force_login(user)
    assert client.get(url).status_code in (302, 403)
    client.force_login(staff_user)
    page = client.get(url).content.decode()
    assert f"#{order.pk}" in page and "circle of 2" in page and "buyer 100 %" in page
    # one page: its title is a title, and the decisions are listed once, in the main content
    assert "<title>Suspected wash trades · PeerHub</title>" in page
    assert page.count('id="decisions-title"') == 1
    assert page.index('id="decisions-title"') > page.index("<main")


def test_the_staff_page_runs_a_bounded_number_of_queries(
    client, staff_user, django_assert_max_num_queries
):
    market = Market(3)
    market.trade(0, 1)
    market.trade(1, 0)
    client.force_login(staff_user)
    url = reverse("marketplace:staff-wash")
    client.get(url)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    market.trade(2, 0)
    market.trade(0, 2)
    market.trade(2, 1)
    with django_assert_max_num_queries(len(small)):
        client.get(url)


def test_how_reputation_works_quotes_the_rule(client):
    page = client.get(reverse("reputation:how-it-works")).content.decode()
    assert 'id="wash-trading"' in page and wash.NOTE in page


# --- Staff decisions ------------------------------------------------------------------------


def decide(action, order, by, reason="Long-standing partners, invoiced elsewhere."):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return action(order=order, by=by, reason=reason)


def order_line(order) -> Decimal:
    return sum(e.amount for e in ReputationEvent.objects.filter(fact_key=order_key(order.pk)))


def test_staff_clear_a_suspected_order_and_its_review_counts_again(staff_user):
    market = Market(2, base_solutions=True)
    market.trade(0, 1)
    order = market.trade(1, 0)
    assert order.wash_suspected and order_line(order) == 0
    decision = decide(wash.wash_clear, order, staff_user)
    order.refresh_from_db()
    assert not order.wash_suspected
    assert (decision.decided_by, decision.suspected) == (staff_user, False)
    assert decision.circle == sorted(m.pk for m in market.members)
    assert order_line(order) == Decimal(20)  # the review's line, re-synced
    last = ReputationEvent.objects.filter(fact_key=order_key(order.pk)).order_by("seq").last()
    assert last.note == wash.CLEARED_NOTE
    # The nightly re-judging keeps the clearance, and the ledger equals the rebuild.
    assert wash.wash_refresh_everything() == []
    assert ledger.sync_everything() == 0
    fitness.recompute_challenge(market.challenge.pk)
    adoption = SolutionScore.objects.get(solution=order.base_solution).components["adoption"]
    assert adoption["orders"] == 1
    buyer, seller = order.buyer_id, order.seller_id
    assert (buyer, seller, 1) in selectors.completed_order_endorsements()


def test_a_cleared_order_stays_cleared_while_its_circle_is_the_same(staff_user):
    market = Market(3)
    market.trade(0, 1)
    order = market.trade(1, 0)
    decide(wash.wash_clear, order, staff_user)
    again = market.trade(1, 0)  # a new order of the same pair: judged by the rule
    order.refresh_from_db()
    assert again.wash_suspected and not order.wash_suspected
    assert wash.wash_refresh_all() == []


def test_a_cleared_order_is_flagged_again_once_new_orders_change_its_circle(staff_user):
    market = Market(3)
    market.trade(0, 1)
    order = market.trade(1, 0)
    decide(wash.wash_clear, order, staff_user)
    market.trade(0, 2)
    market.trade(2, 1)  # the money now also goes round through member 2: a circle of three
    order.refresh_from_db()
    assert order.wash_suspected
    assert wash.verdict_for(order).circle == {m.pk for m in market.members}
    assert wash.wash_refresh_all() == []


def test_staff_flag_a_cleared_order_again_and_the_rule_does_not_lift_it(staff_user):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    decide(wash.wash_clear, order, staff_user)
    decide(wash.wash_flag, order, staff_user, reason="The partners story does not hold.")
    order.refresh_from_db()
    assert order.wash_suspected and order_line(order) == 0
    for _ in range(3):  # the pair now trades mostly with a third member: the rule would lift it
        market.members.append(make_seller(mfa=False))
    market.offers.extend(OfferFactory(seller=m, capacity=50) for m in market.members[2:])
    for other in (2, 3, 4):
        market.trade(other, 0)
        market.trade(other, 1)
    assert wash.wash_refresh_everything() == []
    order.refresh_from_db()
    assert order.wash_suspected


def test_staff_may_flag_an_order_the_rule_spares(staff_user):
    order = Market(2).trade(0, 1)
    decide(wash.wash_flag, order, staff_user, reason="Same card as the seller.")
    order.refresh_from_db()
    assert order.wash_suspected and order_line(order) == 0
    assert wash.wash_refresh_all() == []


def test_a_decision_needs_a_reason_and_a_change(staff_user):
    market = Market(2)
    honest = market.trade(0, 1)
    with pytest.raises(DomainError):
        decide(wash.wash_clear, honest, staff_user)  # not suspected: nothing to clear
    order = market.trade(1, 0)
    with pytest.raises(DomainError):
        decide(wash.wash_clear, order, staff_user, reason="  ")
    assert not WashDecision.objects.exists()


def test_only_a_completed_order_can_be_decided(staff_user):
    order = delivered_order(offer=OfferFactory(), buyer=make_seller(mfa=False))
    with pytest.raises(DomainError):
        decide(wash.wash_flag, order, staff_user, reason="Looks like one.")


def test_members_may_not_decide(user):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    for member in (user, order.buyer, order.seller):
        with pytest.raises(DomainError):
            decide(wash.wash_clear, order, member)
    assert not WashDecision.objects.exists()


def test_the_decision_urls_refuse_members_and_visitors(client, user):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    url = reverse("marketplace:staff-wash-decide", args=[order.pk, "clear"])
    assert client.post(url, {"reason": "Fine."}).status_code == 403
    for member in (user, order.seller):
        client.force_login(member)
        assert client.post(url, {"reason": "Fine."}).status_code == 403
    order.refresh_from_db()
    assert order.wash_suspected and not WashDecision.objects.exists()


def test_staff_clear_and_flag_from_the_queue(client, staff_user):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    client.force_login(staff_user)
    queue = reverse("marketplace:staff-wash")
    assert (
        client.get(reverse("marketplace:staff-wash-decide", args=[order.pk, "x"])).status_code
        == 405
    )
    assert (
        client.post(reverse("marketplace:staff-wash-decide", args=[order.pk, "x"])).status_code
        == 404
    )
    clear = reverse("marketplace:staff-wash-decide", args=[order.pk, "clear"])
    assert client.post(clear, {"reason": ""}).status_code == 302  # refused, with a message
    assert not WashDecision.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(clear, {"reason": "Partners for years."})
    assert response.status_code == 302 and response.url == queue
    order.refresh_from_db()
    assert not order.wash_suspected
    page = client.get(queue).content.decode()
    assert "Partners for years." in page and staff_user.name in page and "Flag again" in page
    flag = reverse("marketplace:staff-wash-decide", args=[order.pk, "flag"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(flag, {"reason": "Changed my mind."})
    order.refresh_from_db()
    assert order.wash_suspected
    assert list(WashDecision.objects.values_list("suspected", flat=True)) == [True, False]


decided_trades = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans()).filter(lambda t: t[0] != t[1]),
    min_size=1,
    max_size=9,
)


@database_examples("WASH_EXAMPLES", 12)
@given(sequence=decided_trades)
def test_staff_decisions_hold_equally_as_orders_complete_and_in_the_full_pass(sequence):
    with transaction.atomic():
        market = Market(4)
        staff = make_seller(mfa=False)
        staff.is_staff = True
        staff.save(update_fields=["is_staff"])
        for buyer, seller, decide_now in sequence:
            market.trade(buyer, seller)
            if decide_now:  # clear the oldest suspected order, else flag the oldest counted one
                flagged = Order.objects.filter(wash_suspected=True).order_by("pk").first()
                target = flagged or Order.objects.order_by("pk").first()
                action = wash.wash_clear if flagged else wash.wash_flag
                decide(action, target, staff)
        assert wash.wash_refresh_all() == []
        assert ledger.sync_everything() == 0
        transaction.set_rollback(True)


# --- Loops of any length (issue 23, third step) -----------------------------------------------


def test_a_ring_of_four_paying_round_is_suspected():
    market = Market(4)
    orders = [market.trade(k, (k + 1) % 4) for k in range(4)]
    assert all(Order.objects.get(pk=o.pk).wash_suspected for o in orders)
    assert wash.verdict_for(orders[0]).circle == {m.pk for m in market.members}
    assert wash.wash_refresh_all() == []


def test_a_ring_of_six_paying_round_is_suspected_and_an_open_chain_is_not():
    market = Market(6)
    chain = [market.trade(k, k + 1) for k in range(5)]
    assert not any(Order.objects.get(pk=o.pk).wash_suspected for o in chain)
    closing = market.trade(5, 0)
    assert Order.objects.get(pk=closing.pk).wash_suspected
    assert all(Order.objects.get(pk=o.pk).wash_suspected for o in chain)


def test_a_loop_through_an_honest_seller_of_many_is_not_suspected():
    """Members 0, 1 and 2 pay round through member 3, who sells to many others: 3 trades
    mostly outside, so no circle holds 3, and without 3 the money does not come back."""
    market = Market(9)
    market.trade(0, 1)
    market.trade(1, 2)
    market.trade(2, 3)
    market.trade(3, 0)
    for buyer in range(4, 9):
        market.trade(buyer, 3)
    assert not any(flags().values())
    assert wash.wash_refresh_all() == []


def test_two_rings_joined_by_one_order_each_keep_their_own_verdicts():
    market = Market(7)
    for k in range(3):  # a ring of three, 0 -> 1 -> 2 -> 0, twice round
        market.trade(k, (k + 1) % 3)
        market.trade(k, (k + 1) % 3)
    for k in range(4):  # a ring of four, 3 -> 4 -> 5 -> 6 -> 3
        market.trade(3 + k, 3 + (k + 1) % 4)
    bridge = market.trade(0, 3)
    assert not Order.objects.get(pk=bridge.pk).wash_suspected  # the money does not come back
    assert all(flag for pk, flag in flags().items() if pk != bridge.pk), "both rings stay suspected"
    assert wash.wash_refresh_all() == []


def circles_by_brute_force(pairs) -> set[frozenset]:
    """The definition read literally: the largest set of members in which each member's group
    (its strongly connected component among the set) has two members or more and holds at least
    half of its orders; its groups are the circles."""
    from itertools import combinations

    trades = wash._Trades(pairs)
    members = sorted(trades.total)

    def groups(of: set[int]):
        return [frozenset(g) for g in wash._loops(of, trades.bought_from)]

    def valid(of: set[int]) -> bool:
        return all(
            len(g) >= 2 and all(trades.share(m, g) >= wash.MOSTLY for m in g) for g in groups(of)
        )

    best: set[int] = set()
    for size in range(len(members), 1, -1):
        for subset in combinations(members, size):
            if valid(set(subset)):
                best |= set(subset)
    return set(groups(best)) if best else set()


graphs = st.dictionaries(
    st.tuples(st.integers(0, 5), st.integers(0, 5)).filter(lambda p: p[0] != p[1]),
    st.integers(1, 3),
    max_size=12,
)


@given(pairs=graphs)
def test_the_circles_are_the_largest_groups_that_pass_whatever_the_order_of_the_steps(pairs):
    from collections import Counter

    found = set(wash._Trades(Counter(pairs)).circles().values())
    assert found == circles_by_brute_force(Counter(pairs))
