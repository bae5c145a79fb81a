"""Edit history (peerhub.history): every edit of a challenge's brief, criteria and deadline, of
a comment and of an offer is kept and shown as a diff, on a page and in the API, to those who
may see the item, and to nobody else."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Challenge
from challenges.services.moderation import comment_set_moderation_hidden
from marketplace import services as market_services
from peerhub import history
from peerhub.models import EditVersion
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.marketplace.factories import OfferFactory

pytestmark = pytest.mark.django_db


def test_a_challenge_edit_keeps_the_first_version_and_the_edit():
    challenge = ChallengeFactory(status=Challenge.Status.DRAFT)
    organiser = challenge.created_by
    first_problem = challenge.problem
    deadline = timezone.now() + timedelta(days=30)
    challenge_services.challenge_update(
        challenge=challenge,
        by=organiser,
        problem="Water is **unsafe** in 3 villages.",
        closes_at=deadline,
        criteria=["Works", "Costs under 10 EUR"],
    )
    versions = history.versions(challenge)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].fields["problem"] == first_problem
    assert versions[0].edited_by_id == organiser.pk
    assert versions[1].fields["criteria"] == "Works\nCosts under 10 EUR"
    assert versions[1].fields["closes_at"] == deadline.strftime("%Y-%m-%d %H:%M UTC")
    changed = history.changes(versions, {"problem": "P", "criteria": "C", "title": "T"})
    assert [f.name for f in changed[0].fields] == ["P", "C"]


def test_saving_a_challenge_unchanged_keeps_no_version():
    challenge = ChallengeFactory()
    challenge_services.challenge_update(
        challenge=challenge, by=challenge.created_by, title=challenge.title
    )
    assert not EditVersion.objects.exists()


def test_the_challenge_history_page_and_api_show_the_edits_to_its_viewers(client):
    challenge = ChallengeFactory(title="Clean water")
    challenge_services.challenge_update(
        challenge=challenge, by=challenge.created_by, summary="Filters for 300 households."
    )
    html = client.get(reverse("challenges:history", args=[challenge.slug])).content.decode()
    assert "Edited 1 time" in html and "Summary" in html and "households" in html
    api = client.get(f"/api/challenges/{challenge.slug}/history/").json()
    assert [v["number"] for v in api] == [1, 2]
    assert api[1]["changed"] == ["summary"] and api[1]["edited_by"] == challenge.created_by.username
    assert api[0]["changed"] == []


def test_a_private_challenges_history_is_not_found_by_outsiders(client):
    challenge = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    challenge_services.challenge_update(challenge=challenge, by=challenge.created_by, title="New")
    client.force_login(UserFactory())
    assert client.get(reverse("challenges:history", args=[challenge.slug])).status_code == 404
    assert client.get(f"/api/challenges/{challenge.slug}/history/").status_code == 404
    client.force_login(challenge.created_by)
    assert client.get(reverse("challenges:history", args=[challenge.slug])).status_code == 200


def comment_edited(body="Frist!", new="First!"):
    comment = challenge_services.comment_create(
        author=UserFactory(), target=ChallengeFactory(), body=body
    )
    return challenge_services.comment_edit(comment=comment, by=comment.author, body=new)


def test_a_comment_edit_is_kept_and_linked_from_the_thread(client):
    comment = comment_edited()
    page = client.get(reverse("challenges:comment-history", args=[comment.pk])).content.decode()
    assert "<del>Frist</del>" in page and "<ins>First</ins>" in page
    api = client.get(f"/api/comments/{comment.pk}/history/").json()
    assert [v["fields"]["body"] for v in api] == ["Frist!", "First!"]
    thread = client.get(comment.challenge.get_absolute_url()).content.decode()
    assert reverse("challenges:comment-history", args=[comment.pk]) in thread


def test_a_hidden_comments_history_is_for_its_moderators_and_author_only(client):
    comment = comment_edited(body="Buy pills", new="Buy pills now")
    comment_set_moderation_hidden(comment, "Hidden: flagged as spam.")
    url = reverse("challenges:comment-history", args=[comment.pk])
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(f"/api/comments/{comment.pk}/history/").status_code == 404
    client.force_login(comment.challenge.created_by)  # its organiser moderates it
    assert "now</ins>" in client.get(url).content.decode()
    client.force_login(comment.author)
    assert client.get(url).status_code == 200


def test_deleting_a_comment_erases_its_history(client):
    comment = comment_edited(body="My phone is 555-1234", new="Call me")
    challenge_services.comment_delete(comment=comment, by=comment.author)
    assert history.versions(comment) == []
    assert client.get(reverse("challenges:comment-history", args=[comment.pk])).status_code == 404


def test_an_offer_edit_shows_the_price_change(client):
    offer = OfferFactory(price=10000)
    market_services.offer_update(offer=offer, by=offer.seller, price=12500, is_active=False)
    html = client.get(reverse("marketplace:offer-history", args=[offer.pk]))
    # A paused offer's page is its seller's: the history follows the page.
    assert html.status_code == 404
    client.force_login(offer.seller)
    text = client.get(reverse("marketplace:offer-history", args=[offer.pk])).content.decode()
    assert "€<del>100</del>.00" in text and "€<ins>125</ins>.00" in text  # in the reader's format
    assert "Taking orders" in text
    api = client.get(f"/api/offers/{offer.pk}/history/").json()
    assert api[1]["changed"] == ["price", "is_active"]


def test_a_hidden_offers_history_is_for_its_seller_only(client):
    offer = OfferFactory()
    market_services.offer_update(offer=offer, by=offer.seller, title="Cheap pills")
    offer.hidden_reason, offer.hidden_at = "Hidden: flagged as spam.", timezone.now()
    offer.save(update_fields=["hidden_reason", "hidden_at"])
    client.force_login(UserFactory())
    assert client.get(reverse("marketplace:offer-history", args=[offer.pk])).status_code == 404
    assert client.get(f"/api/offers/{offer.pk}/history/").status_code == 404


def test_the_history_page_reads_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    challenge = ChallengeFactory()
    for n in range(8):
        challenge_services.challenge_update(
            challenge=challenge, by=challenge.created_by, summary=f"Version {n}"
        )
    make_solution(challenge)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("challenges:history", args=[challenge.slug]))
    assert response.content.decode().count("history-edit-title") == 8
