"""Adoption in fitness: services sold on a solution raise it (reputation.fitness asks the
marketplace through the `solution_adoption` hook), and the explanation says why."""

from decimal import Decimal

import pytest

from marketplace import services
from reputation import fitness, rankings
from reputation.models import SolutionScore
from tests.factories import ChallengeFactory, make_solution
from tests.marketplace.factories import OfferFactory, delivered_order

pytestmark = pytest.mark.django_db


def score(solution) -> SolutionScore:
    return SolutionScore.objects.get(solution=solution)


def test_a_solution_services_are_sold_on_outranks_an_equal_one():
    challenge = ChallengeFactory()
    plain = make_solution(challenge, title="Plain")
    adopted = make_solution(challenge, title="Adopted")
    offer = OfferFactory(base_solution=adopted, seller=adopted.author)
    order = delivered_order(offer=offer)
    services.order_accept(order=order, by=order.buyer)

    fitness.recompute_challenge(challenge.pk)

    assert score(adopted).rank == 1 and score(plain).rank == 2
    part = score(adopted).components["adoption"]
    assert (part["offers"], part["orders"]) == (1, 1)
    # raw = 1 order + 0.5 x 1 offer = 1.5; 1.5 / (1.5 + 2) x weight 0.05 x 100 points
    assert Decimal(str(part["points"])) == Decimal("2.1429")
    assert sum(Decimal(str(c["points"])) for c in score(adopted).components.values()) == (
        score(adopted).fitness
    )
    lines = {line.name: line for line in rankings.explanation(score(adopted))}
    assert "1 completed service order and 1 active offer" in lines["adoption"].detail


def test_paused_offers_and_unfinished_orders_do_not_count():
    challenge = ChallengeFactory()
    solution = make_solution(challenge)
    OfferFactory(base_solution=solution, seller=solution.author, is_active=False)
    delivered_order(offer=OfferFactory(base_solution=solution, seller=solution.author))

    fitness.recompute_challenge(challenge.pk)

    part = score(solution).components["adoption"]
    assert (part["offers"], part["orders"]) == (1, 0)  # the second offer; its order is open
