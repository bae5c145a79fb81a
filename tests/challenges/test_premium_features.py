"""Premium organiser features, as challenges enforces them: private challenges and the number of
open challenges one organiser runs. challenges only asks `has_perm`; here the permissions are
granted directly (tests/marketplace/test_premium_challenges.py grants them through a real
subscription)."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from challenges import permissions, services
from challenges.models import Challenge
from peerhub.exceptions import Conflict, NotAllowed
from tests.factories import (
    ChallengeFactory,
    UserFactory,
    grant,
    make_organiser,
    make_premium_organiser,
)
from tests.helpers import assert_error

from .test_api import client_for

pytestmark = pytest.mark.django_db

Status, Visibility = Challenge.Status, Challenge.Visibility
LIMITS = {"open_challenges": {"free": 2, "premium": 3}}


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.PEERHUB_CHALLENGES = {**settings.PEERHUB_CHALLENGES, **LIMITS}


def make_staff():
    return UserFactory(is_staff=True)  # staff, not superuser: no permission rows at all


def draft(organiser) -> Challenge:
    return ChallengeFactory(organisers=[organiser], created_by=organiser, status=Status.DRAFT)


def running(organiser, count: int) -> None:
    for _ in range(count):
        ChallengeFactory(organisers=[organiser], created_by=organiser, status=Status.OPEN)


def frame(organiser, visibility=Visibility.PRIVATE) -> Challenge:
    return services.challenge_create(
        organiser=organiser,
        title="Co-op retrofit",
        summary="Halve the bills.",
        visibility=visibility,
    )


# --- Private challenges: the rule --------------------------------------------------------------


def test_a_free_organiser_cannot_frame_a_private_challenge():
    with pytest.raises(NotAllowed, match="Premium") as refused:
        frame(make_organiser())
    assert refused.value.code == "premium_required"
    assert not Challenge.objects.exists()


def test_a_free_organiser_frames_public_challenges_as_before():
    assert frame(make_organiser(), Visibility.PUBLIC).visibility == Visibility.PUBLIC


def test_a_premium_organiser_frames_a_private_challenge():
    assert frame(make_premium_organiser()).visibility == Visibility.PRIVATE


def test_staff_frame_private_challenges_without_premium():
    staff = grant(make_staff(), "challenges.add_challenge")
    assert frame(staff).visibility == Visibility.PRIVATE
    assert permissions.can_make_challenge_private(make_staff())


def test_a_free_organiser_cannot_switch_a_challenge_to_private():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    with pytest.raises(NotAllowed, match="Premium"):
        services.challenge_update(challenge=challenge, by=organiser, visibility=Visibility.PRIVATE)
    challenge.refresh_from_db()
    assert challenge.visibility == Visibility.PUBLIC


def test_a_premium_organiser_switches_a_challenge_to_private():
    organiser = make_premium_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    services.challenge_update(challenge=challenge, by=organiser, visibility=Visibility.PRIVATE)
    challenge.refresh_from_db()
    assert challenge.visibility == Visibility.PRIVATE


def test_a_free_co_organiser_may_still_edit_a_challenge_that_is_already_private():
    """Only the switch to private needs Premium: editing a private challenge, or making it
    public again, does not."""
    owner, helper = make_premium_organiser(), make_organiser()
    challenge = ChallengeFactory(organisers=[owner, helper], visibility=Visibility.PRIVATE)
    services.challenge_update(
        challenge=challenge, by=helper, title="Renamed", visibility=Visibility.PRIVATE
    )
    services.challenge_update(challenge=challenge, by=helper, visibility=Visibility.PUBLIC)
    challenge.refresh_from_db()
    assert (challenge.title, challenge.visibility) == ("Renamed", Visibility.PUBLIC)


# --- Open challenges: the rule ---------------------------------------------------------------


def test_a_free_organiser_opens_challenges_up_to_the_free_limit():
    organiser = make_organiser()
    running(organiser, 1)
    opened = services.challenge_transition(challenge=draft(organiser), by=organiser, to=Status.OPEN)
    assert opened.status == Status.OPEN
    assert permissions.open_challenges_run_by(organiser) == 2


def test_a_free_organiser_at_the_limit_is_refused_and_told_premium_unlocks_more():
    organiser = make_organiser()
    running(organiser, 2)
    challenge = draft(organiser)
    with pytest.raises(NotAllowed, match="Premium unlocks up to 3") as refused:
        services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)
    assert refused.value.code == "open_limit"
    challenge.refresh_from_db()
    assert challenge.status == Status.DRAFT


def test_challenges_past_open_do_not_count():
    organiser = make_organiser()
    running(organiser, 1)
    ChallengeFactory(organisers=[organiser], status=Status.SELECTING)
    ChallengeFactory(organisers=[organiser], status=Status.CLOSED)
    services.challenge_transition(challenge=draft(organiser), by=organiser, to=Status.OPEN)


def test_co_organised_and_created_challenges_count_once_each():
    organiser, other = make_organiser(), make_organiser()
    ChallengeFactory(organisers=[other, organiser], created_by=other)  # co-organised
    ChallengeFactory(organisers=[other], created_by=organiser)  # created, handed over
    ChallengeFactory(organisers=[organiser], created_by=organiser)  # both: counted once
    ChallengeFactory(organisers=[other], created_by=other)  # not theirs
    assert permissions.open_challenges_run_by(organiser) == 3
    with pytest.raises(NotAllowed):
        services.challenge_transition(challenge=draft(organiser), by=organiser, to=Status.OPEN)


def test_a_premium_organiser_opens_more_than_the_free_limit():
    organiser = make_premium_organiser()
    running(organiser, 2)
    opened = services.challenge_transition(challenge=draft(organiser), by=organiser, to=Status.OPEN)
    assert opened.status == Status.OPEN


def test_even_premium_stops_at_the_premium_limit():
    organiser = make_premium_organiser()
    running(organiser, 3)
    challenge = draft(organiser)
    with pytest.raises(Conflict, match="close one") as refused:
        services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)
    assert refused.value.code == "open_limit"


def test_staff_have_no_open_limit():
    staff = make_staff()
    running(staff, 5)
    challenge = draft(staff)
    assert permissions.open_challenge_limit(staff) is None
    assert services.challenge_transition(challenge=challenge, by=staff, to=Status.OPEN).status


def test_the_limits_come_from_settings(settings):
    settings.PEERHUB_CHALLENGES = {"open_challenges": {"free": 5}}
    organiser = make_organiser()
    assert permissions.open_challenge_limit(organiser) == 5
    assert permissions.open_challenge_limit(make_premium_organiser()) == 20  # the default


# --- The API ---------------------------------------------------------------------------------


def test_api_refuses_a_private_challenge_to_a_free_organiser_with_403():
    response = client_for(make_organiser()).post(
        "/api/challenges/", {"title": "Hidden", "summary": "Secret.", "visibility": "private"}
    )
    error = assert_error(response, 403, "premium_required")
    assert "Premium" in error["message"]
    assert not Challenge.objects.exists()


def test_api_lets_a_premium_organiser_frame_a_private_challenge():
    response = client_for(make_premium_organiser()).post(
        "/api/challenges/", {"title": "Hidden", "summary": "Secret.", "visibility": "private"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["visibility"] == "private"


def test_api_refuses_switching_to_private_with_403():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    response = client_for(organiser).patch(
        f"/api/challenges/{challenge.slug}/", {"visibility": "private"}
    )
    assert_error(response, 403, "premium_required")


def test_api_refuses_opening_beyond_the_free_limit_with_403():
    organiser = make_organiser()
    running(organiser, 2)
    challenge = draft(organiser)
    url = f"/api/challenges/{challenge.slug}/transition/"
    error = assert_error(client_for(organiser).post(url, {"to": "open"}), 403, "open_limit")
    assert "Premium" in error["message"]
    premium = grant(organiser, "challenges.more_open_challenges")
    assert client_for(premium).post(url, {"to": "open"}).status_code == 200


# --- The HTML pages --------------------------------------------------------------------------


def test_the_form_shows_the_private_option_marked_premium_to_a_free_organiser(client):
    client.force_login(make_organiser())
    page = client.get(reverse("challenges:create")).content.decode()
    assert "Private: organisers and invited members (Premium)" in page
    assert 'href="/premium/"' in page


def test_the_form_shows_the_private_option_plainly_to_a_premium_organiser(client):
    client.force_login(make_premium_organiser())
    page = client.get(reverse("challenges:create")).content.decode()
    assert "Private: organisers and invited members" in page
    assert "(Premium)" not in page


def test_the_form_refuses_a_private_challenge_with_an_error_on_the_field(client):
    client.force_login(make_organiser())
    response = client.post(
        reverse("challenges:create"),
        {"title": "Hidden", "summary": "Secret.", "visibility": "private", "licence": "CC0"},
    )
    assert response.status_code == 200
    assert "Premium unlocks them" in " ".join(response.context["form"].errors["visibility"])
    assert not Challenge.objects.exists()


def test_the_edit_form_refuses_switching_to_private(client):
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    client.force_login(organiser)
    response = client.post(
        reverse("challenges:edit", args=[challenge.slug]),
        {"title": "Same", "summary": "Same.", "visibility": "private", "licence": "CC0"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["visibility"]
    challenge.refresh_from_db()
    assert challenge.visibility == Visibility.PUBLIC


def test_the_challenge_page_says_why_opening_is_refused(client):
    organiser = make_organiser()
    running(organiser, 2)
    challenge = draft(organiser)
    client.force_login(organiser)
    response = client.post(
        reverse("challenges:transition", args=[challenge.slug]),
        {"to": "open", "confirmed": "yes"},
        follow=True,
    )
    assert "Premium unlocks up to 3" in response.content.decode()
    challenge.refresh_from_db()
    assert challenge.status == Status.DRAFT


# --- Concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_challenges_opened_at_once_cannot_both_slip_under_the_limit(postgres, monkeypatch):
    """Both requests have read the organiser's limit before either counts: the lock on the
    organiser's row makes the second count after the first commits, so it sees the limit."""
    organiser = make_organiser()
    running(organiser, 1)  # one more is allowed, not two
    first, second = draft(organiser), draft(organiser)
    both_checked = threading.Barrier(2, timeout=10)
    limit_of = permissions.open_challenge_limit

    def rendezvous(user):
        both_checked.wait()
        return limit_of(user)

    monkeypatch.setattr(permissions, "open_challenge_limit", rendezvous)
    outcomes = []

    def open_(challenge):
        try:
            services.challenge_transition(challenge=challenge, by=organiser, to=Status.OPEN)
            outcomes.append("opened")
        except NotAllowed:
            outcomes.append("refused")
        except Exception as error:  # reported below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=open_, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["opened", "refused"]
    assert permissions.open_challenges_run_by(organiser) == 2
