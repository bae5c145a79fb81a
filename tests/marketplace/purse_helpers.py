"""Purse data for tests, built through the real services: configure, contribute, publish."""

from challenges import services as challenge_services
from challenges.models import Challenge
from marketplace import services
from marketplace.services import purses
from tests.factories import ChallengeFactory, UserFactory
from tests.helpers import after_commit


def funded_challenge(*, amounts=(10000,), mode="places", places=(60, 30, 10), share="0.20"):
    challenge = ChallengeFactory()
    organiser = challenge.created_by
    purses.purse_configure(
        challenge=challenge, by=organiser, mode=mode, places=list(places), lineage_share=share
    )
    for amount in amounts:
        contribute(challenge, UserFactory(), amount)
    return challenge


def contribute(challenge, backer, amount, outcome="succeed", name=""):
    payment = purses.contribution_start(
        challenge=challenge, backer=backer, amount=amount, public_name=name, return_url="/"
    )
    if outcome:
        services.sandbox_answer(payment=payment, by=backer, outcome=outcome)
    payment.refresh_from_db()
    return payment


def to_selecting(challenge) -> None:
    challenge.refresh_from_db()
    if challenge.status == Challenge.Status.OPEN:
        challenge_services.challenge_transition(
            challenge=challenge, by=challenge.created_by, to=Challenge.Status.SELECTING
        )


def publish_winners(challenge, winners, *, shortlisted=()):
    """Select `winners` (in this order) in a new round and publish it."""
    to_selecting(challenge)
    organiser = challenge.created_by
    round_ = challenge_services.selection_round_open(challenge=challenge, by=organiser)
    for solution in [*winners, *shortlisted]:
        challenge_services.selection_shortlist(
            round=round_, by=organiser, solution=solution, reason="Strong."
        )
    for solution in winners:
        challenge_services.selection_select(
            round=round_, by=organiser, solution=solution, reason="The best."
        )
    with after_commit():  # the award is promised through the outbox, run after commit
        return challenge_services.selection_publish(round=round_, by=organiser)


def archive(challenge) -> None:
    """Close and archive (the refund of a purse without winners runs after commit)."""
    to_selecting(challenge)
    with after_commit():
        for to in (Challenge.Status.CLOSED, Challenge.Status.ARCHIVED):
            challenge_services.challenge_transition(
                challenge=challenge, by=challenge.created_by, to=to
            )
