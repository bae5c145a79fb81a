"""A completed order rated well gives its seller reputation through the reputation app's rules;
the full rebuild derives the same lines (the marketplace hands them over as a fact source)."""

from decimal import Decimal

import pytest

from marketplace import services
from marketplace.reputation_facts import order_key, sync_order
from reputation import ledger
from reputation.models import ReputationEvent, ReputationScore
from reputation.presenters import event_lines
from tests.factories import make_solution
from tests.marketplace.factories import OfferFactory, delivered_order, make_seller

# Transactional: the sync runs after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

Kind = ReputationEvent.Kind


def completed(**kwargs):
    order = delivered_order(**kwargs)
    return services.order_accept(order=order, by=order.buyer)


def seller_total(order) -> Decimal:
    return ReputationScore.objects.get(user_id=order.seller_id).total


@pytest.mark.parametrize(("rating", "amount"), [(5, 20), (4, 10), (3, None), (1, None)])
def test_a_good_review_gives_the_seller_reputation(rating, amount):
    order = completed()
    before = ReputationEvent.objects.filter(kind=Kind.ORDER_REVIEWED).count()
    services.order_review_save(order=order, by=order.buyer, rating=rating, text="Thanks")
    lines = ReputationEvent.objects.filter(kind=Kind.ORDER_REVIEWED, fact_key=order_key(order.pk))
    if amount is None:
        assert ReputationEvent.objects.filter(kind=Kind.ORDER_REVIEWED).count() == before
        return
    line = lines.get()
    assert (line.beneficiary_id, line.amount, line.actor_id, line.capped) == (
        order.seller_id,
        Decimal(amount),
        order.buyer_id,
        False,
    )
    assert line.solution_id == order.base_solution_id


def test_order_reputation_is_outside_the_daily_vote_cap(settings):
    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 5}
    order = completed()
    services.order_review_save(order=order, by=order.buyer, rating=5)
    assert seller_total(order) == 1 + 20


def test_syncing_again_and_the_full_rebuild_append_nothing():
    order = completed()
    services.order_review_save(order=order, by=order.buyer, rating=5)
    assert sync_order(order.pk) == set()
    assert ledger.sync_everything() == 0


def test_syncing_the_base_solution_leaves_the_order_line_alone():
    """An order built on a solution: the solution's own syncs and the full rebuild hold only
    the lines its facts give, so they neither take back the seller's order line nor append
    anything on a second run."""
    seller = make_seller()
    offer = OfferFactory(seller=seller, base_solution=make_solution(author=seller))
    order = completed(offer=offer)
    assert order.base_solution_id == offer.base_solution_id
    services.order_review_save(order=order, by=order.buyer, rating=5)
    ledger.sync_solutions([order.base_solution_id])
    assert ledger.sync_everything() == 0
    assert ledger.sync_everything() == 0
    assert seller_total(order) == 1 + 20


def test_the_full_rebuild_derives_order_lines_the_syncs_missed():
    order = completed()
    services.order_review_save(order=order, by=order.buyer, rating=4)
    ReputationEvent.objects.filter(kind=Kind.ORDER_REVIEWED).delete()  # as if never synced
    assert ledger.sync_everything() == 1
    assert seller_total(order) == 1 + 10


def test_the_history_explains_the_line():
    order = completed()
    services.order_review_save(order=order, by=order.buyer, rating=5)
    events = ReputationEvent.objects.filter(kind=Kind.ORDER_REVIEWED).select_related(
        "actor", "solution", "source_solution"
    )
    [line] = event_lines(viewer=order.seller, events=events)
    assert line.text.startswith(f"{order.buyer.name} rated a service you delivered highly")
