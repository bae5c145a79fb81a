"""Contributions racing the publication of results, on PostgreSQL with real threads: the purse
row lock lets each contribution either in before the lock (and into the awards) or refuses it
before any charge; money that lands after the lock goes back in full. Nothing is lost."""

import pytest
from django.db.models import Sum
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Challenge
from marketplace import ledger, services
from marketplace.models import Contribution, Earning, Payment, Purse, Refund
from marketplace.services import purses
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.helpers import after_commit

from .purse_helpers import contribute, funded_challenge, to_selecting
from .test_concurrency import race

BACKERS = 12


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_contributions_racing_the_results_are_in_the_award_or_refused_before_charging(postgres):
    challenge = funded_challenge(amounts=(5000,))
    winner = make_solution(challenge)
    to_selecting(challenge)
    organiser = challenge.created_by
    round_ = challenge_services.selection_round_open(challenge=challenge, by=organiser)
    challenge_services.selection_shortlist(round=round_, by=organiser, solution=winner, reason="R")
    challenge_services.selection_select(round=round_, by=organiser, solution=winner, reason="W")
    backers = [UserFactory() for _ in range(BACKERS)]

    def act(index: int) -> str:
        if index == BACKERS:
            with after_commit():
                challenge_services.selection_publish(round=round_, by=organiser)
            return "published"
        payment = purses.contribution_start(
            challenge=challenge, backer=backers[index], amount=1000, return_url="/"
        )
        return services.sandbox_answer(payment=payment, by=backers[index], outcome="succeed")

    outcomes = race(BACKERS + 1, act)

    assert outcomes.count("published") == 1
    paid = outcomes.count("paid")
    refused = outcomes.count("refused: purse_closed")
    returned = outcomes.count("returned: the purse had closed")
    assert paid + refused + returned == BACKERS, outcomes
    purse = Purse.objects.get(challenge=challenge)
    if purse.state == Purse.State.LOCKED:  # the award task ran in its own thread's commit
        purses.purse_award(purse_id=purse.pk)
        purse.refresh_from_db()
    assert purse.state == Purse.State.AWARDED
    # the refused never reached a checkout: one payment per contribution in, none for them
    assert Payment.objects.filter(contribution__purse=purse).count() == 1 + paid + returned
    assert Contribution.objects.filter(purse=purse, state="returned").count() == returned
    in_purse = Contribution.objects.filter(purse=purse, state="paid").aggregate(
        net=Sum("amount") - Sum("fee")
    )["net"]
    assert Earning.objects.filter(purse=purse).aggregate(s=Sum("amount"))["s"] == in_purse
    assert ledger.balance(ledger.purse(challenge, "EUR")) == 0
    assert ledger.audit() == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_rollover_racing_the_follow_ups_archiving_ends_in_refunds_either_way(postgres):
    """The rollover locks the follow-up's challenge row, then its purse, as archiving it does:
    either the money rolls over first and the follow-up's archiving refunds it with its own
    backers, or the follow-up is archived first and the purse falls back to refunds."""
    challenge = funded_challenge(amounts=(10000, 3000))
    organiser = challenge.created_by
    follow_up = ChallengeFactory(created_by=organiser)
    purses.purse_configure(challenge=follow_up, by=organiser, mode="equal")
    contribute(follow_up, UserFactory(), 2000)
    Purse.objects.filter(challenge=challenge).update(rollover_to=follow_up)
    to_selecting(follow_up)
    challenge_services.challenge_transition(
        challenge=follow_up, by=organiser, to=Challenge.Status.CLOSED
    )
    # archived, its settlement not yet run (a worker picks it up below)
    Purse.objects.filter(challenge=challenge).update(
        state=Purse.State.LOCKED, locked_at=timezone.now()
    )
    source = Purse.objects.get(challenge=challenge)

    def act(index: int) -> str:
        if index == 0:
            return purses.purse_settle_without_winners(purse_id=source.pk)
        with after_commit():
            challenge_services.challenge_transition(
                challenge=follow_up, by=organiser, to=Challenge.Status.ARCHIVED
            )
        return "archived"

    outcomes = race(2, act)

    assert sorted(outcomes) in (["archived", "rolled over"], ["archived", "refunded"]), outcomes
    target = Purse.objects.get(challenge=follow_up)
    if target.state == Purse.State.LOCKED:  # its settlement ran in the other thread's commit
        purses.purse_settle_without_winners(purse_id=target.pk)
    assert set(Contribution.objects.values_list("state", flat=True)) == {"refunded"}
    assert sum(Refund.objects.values_list("amount", flat=True)) == 9500 + 2850 + 1900
    assert ledger.balance(ledger.purse(challenge, "EUR")) == 0
    assert ledger.balance(ledger.purse(follow_up, "EUR")) == 0
    assert ledger.audit() == []
