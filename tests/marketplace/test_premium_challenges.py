"""The Premium plan unlocks the organiser features challenges enforces: a real subscription, paid
through the sandbox, answers `challenges.create_private_challenge` and
`challenges.more_open_challenges`; a lapsed one stops answering."""

from datetime import timedelta

import pytest

from challenges import services as challenge_services
from challenges.models import Challenge
from marketplace import services
from marketplace.models import Subscription
from peerhub.exceptions import NotAllowed
from peerhub.models import User
from tests.factories import ChallengeFactory, make_organiser

pytestmark = pytest.mark.django_db
Status, Visibility = Challenge.Status, Challenge.Visibility


def subscribe(user: User) -> Subscription:
    payment = services.subscription_start(user=user, interval="monthly")
    services.sandbox_answer(payment=payment, by=user, outcome="succeed")
    return Subscription.objects.get(pk=payment.subscription_id)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no cached permissions or premium flag


def frame_private(organiser: User) -> Challenge:
    return challenge_services.challenge_create(
        organiser=organiser, title="Co-op retrofit", summary="Halve the bills.",
        visibility=Visibility.PRIVATE,
    )  # fmt: skip


def test_a_subscribed_organiser_frames_a_private_challenge():
    organiser = make_organiser()
    with pytest.raises(NotAllowed):
        frame_private(organiser)
    subscribe(organiser)
    assert frame_private(fresh(organiser)).is_private


def test_a_subscribed_organiser_opens_more_than_the_free_limit(settings):
    free = settings.PEERHUB_MARKETPLACE["open_challenges"]["free"]
    assert settings.PEERHUB_CHALLENGES["open_challenges"]["free"] == free  # one source
    organiser = make_organiser()
    for _ in range(free):
        ChallengeFactory(organisers=[organiser], created_by=organiser)
    draft = ChallengeFactory(organisers=[organiser], created_by=organiser, status=Status.DRAFT)
    with pytest.raises(NotAllowed, match="Premium"):
        challenge_services.challenge_transition(challenge=draft, by=organiser, to=Status.OPEN)
    subscribe(organiser)
    opened = challenge_services.challenge_transition(
        challenge=draft, by=fresh(organiser), to=Status.OPEN
    )
    assert opened.status == Status.OPEN


def test_a_lapsed_subscription_no_longer_makes_challenges_private():
    organiser = make_organiser()
    subscription = subscribe(organiser)
    services.subscription_cancel(user=organiser)
    services.subscriptions_renew(now=subscription.current_period_end + timedelta(minutes=1))
    with pytest.raises(NotAllowed, match="Premium"):
        frame_private(fresh(organiser))
