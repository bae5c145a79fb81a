"""Status messages of htmx actions reach the page's one polite live region: each htmx answer
names its message in HX-Trigger (peerhub:status), which site.js writes into #site-status; pages hold
exactly one live region, and the messages shown on a loaded page are not a second one."""

import json

import pytest
from django.urls import reverse

from challenges import services as challenge_services
from peerhub.announce import EVENT, announce
from tests.factories import ChallengeFactory, ManifestoVersionFactory, UserFactory, make_solution

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def said(response) -> dict:
    return json.loads(response["HX-Trigger"])[EVENT]


def test_announce_adds_the_event_and_keeps_other_triggers():
    from django.http import HttpResponse

    response = HttpResponse()
    response["HX-Trigger"] = json.dumps({"other": {}})
    announce(response, "Done.")
    assert json.loads(response["HX-Trigger"]) == {
        "other": {},
        EVENT: {"message": "Done.", "error": False},
    }
    assert "HX-Trigger" not in announce(HttpResponse(), "")  # nothing to say, nothing sent


def test_follow_and_unfollow_are_announced(member_client):
    challenge = ChallengeFactory(title="Clean water")
    url = reverse("follow-toggle", args=["challenge", challenge.pk])
    assert said(member_client.post(url, headers=HTMX)) == {
        "message": "You follow Clean water now.",
        "error": False,
    }
    assert said(member_client.post(url, headers=HTMX))["message"] == (
        "You no longer follow Clean water."
    )


def test_following_yourself_is_announced_as_an_error(member_client):
    me = member_client.user
    response = member_client.post(reverse("follow-toggle", args=["member", me.pk]), headers=HTMX)
    assert response.status_code == 200
    assert said(response) == {"message": "You cannot follow yourself.", "error": True}


def test_a_plain_post_has_no_trigger(member_client):
    challenge = ChallengeFactory()
    response = member_client.post(reverse("follow-toggle", args=["challenge", challenge.pk]))
    assert response.status_code == 302
    assert "HX-Trigger" not in response


def test_signing_the_manifesto_is_announced_once(member_client):
    ManifestoVersionFactory()
    response = member_client.post(reverse("manifesto-sign"), headers=HTMX)
    assert said(response)["message"] == "Thank you for signing the manifesto."
    assert 'role="status"' not in response.content.decode()  # no fresh live region
    again = member_client.post(reverse("manifesto-sign"), headers=HTMX)
    assert "HX-Trigger" not in again  # nothing new happened


def test_backing_a_proposal_is_announced(member_client):
    proposal = challenge_services.proposal_create(
        proposer=UserFactory(), title="Bike lanes", summary="s", problem="p"
    )
    url = reverse("challenges:proposal-back", args=[proposal.pk])
    assert said(member_client.post(url, {"back": "1"}, headers=HTMX))["message"] == (
        "You back this proposal."
    )
    assert said(member_client.post(url, {"back": "0"}, headers=HTMX))["message"] == (
        "You no longer back this proposal."
    )


def test_a_vote_is_announced(member_client):
    solution = make_solution()
    response = member_client.post(
        reverse("reputation:vote", args=[solution.pk]), {"value": "1"}, headers=HTMX
    )
    assert said(response) == {"message": "Thank you: your vote counts.", "error": False}
    assert 'role="status"' not in response.content.decode()


def test_every_page_has_one_live_region_and_shown_messages_are_not_another(member_client):
    solution = make_solution()
    # A refused plain vote leaves a Django message on the next page.
    member_client.post(reverse("reputation:vote", args=[solution.pk]), {"value": "7"})
    html = member_client.get(solution.get_absolute_url()).content.decode()
    assert "A vote is up, down, or removed." in html
    assert html.count('aria-live="polite"') == 1
    region = html[html.index('<div id="site-status" role="status" aria-live="polite">') :]
    assert region.index("A vote is up, down, or removed.") < region.index("data-said")


def test_comments_are_announced_and_a_refusal_is_an_error(member_client):
    challenge = ChallengeFactory()
    url = reverse("challenges:comment-create", args=["challenge", challenge.slug])
    response = member_client.post(url, {"body": "Have you tried sand?"}, headers=HTMX)
    assert said(response) == {"message": "Your comment is posted.", "error": False}
    refused = member_client.post(url, {"body": ""}, headers=HTMX)
    assert said(refused)["error"] is True
    assert 'role="alert"' not in refused.content.decode()
