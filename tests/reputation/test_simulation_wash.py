"""Wash trading in the simulation (issue 23): beside the ring an honest market of the same size
trades through the same services; the wash-trading rule (marketplace.wash) catches the ring's
orders and none of the honest ones, and a caught order gives nothing an honest one would not."""

import dataclasses

import pytest

from marketplace.models import Order
from reputation import simulation
from reputation.models import ReputationEvent, SolutionScore

pytestmark = pytest.mark.django_db(transaction=True)

WASH = simulation.Config(
    members=120, challenges=2, days=5, seed=3, post_rate=0.15, vote_rate=0.3, prize_share=0.0,
    wash_traders=4,
)  # fmt: skip


def test_the_rule_catches_the_ring_and_spares_the_honest_market():
    sim = simulation.Simulation(WASH)
    result = sim.run()
    traders = sim.ids("wash_trader")
    wash = Order.objects.filter(buyer_id__in=traders, state=Order.State.COMPLETED)
    honest = Order.objects.filter(seller_id__in=sim.honest_offers, state=Order.State.COMPLETED)
    assert wash.count() == 4 * WASH.days and honest.exists()
    assert not set(honest.values_list("buyer_id", flat=True)) & set(traders)

    # Every wash order but the first day's is caught once the ring has paid itself round; the
    # first day's are caught by the later ones (a go-between closes the circle).
    assert wash.filter(wash_suspected=True).count() == wash.count()
    assert not honest.filter(wash_suspected=True).exists()

    # A caught order's review gave the seller nothing; an honest one of the same price 20.
    order_lines = ReputationEvent.objects.filter(kind=ReputationEvent.Kind.ORDER_REVIEWED)
    assert sum(e.amount for e in order_lines.filter(beneficiary_id__in=traders)) == 0
    assert order_lines.filter(beneficiary_id__in=sim.honest_offers).exists()
    # And no adoption for the traders' solutions from their orders.
    for components in SolutionScore.objects.filter(
        solution_id__in=list(sim.wash_solutions.values())
    ).values_list("components", flat=True):
        assert components["adoption"]["orders"] == 0

    figures = {
        figure: (value, reached)
        for name, rows in result.adversary_figures()
        if name.startswith("Wash trading")
        for figure, value, _goal, reached in rows
    }
    assert figures["Wash orders detected (suspected wash trades)"] == (
        f"100% ({wash.count()} of {wash.count()})",
        True,
    )
    assert figures["Honest orders wrongly suspected"][1] is True
    assert figures[
        "Reputation a detected wash order gives / an honest order of the same price"
    ] == ("0.0 points / 20.0 points", True)


def test_without_wash_traders_there_is_no_honest_market_either():
    sim = simulation.Simulation(dataclasses.replace(WASH, wash_traders=0, days=1))
    sim.run()
    assert sim.honest_sellers == [] and not Order.objects.exists()


def test_a_ring_paying_only_round_a_loop_of_five_is_caught():
    config = dataclasses.replace(WASH, wash_traders=5, wash_loop=True, days=2)
    sim = simulation.Simulation(config)
    sim.run()
    traders = sim.ids("wash_trader")
    wash = Order.objects.filter(buyer_id__in=traders, state=Order.State.COMPLETED)
    # Each trader only ever bought from the next: no pair, no go-between, a loop of five.
    pairs = set(wash.values_list("buyer_id", "seller_id"))
    assert len(pairs) == 5 and all((s, b) not in pairs for b, s in pairs)
    assert wash.count() == 10 and wash.filter(wash_suspected=True).count() == 10
    honest = Order.objects.filter(seller_id__in=sim.honest_offers, state=Order.State.COMPLETED)
    assert honest.exists() and not honest.filter(wash_suspected=True).exists()
