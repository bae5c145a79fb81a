"""The purse pages and their API twins: who sees and does what, errors, bounded queries."""

import pytest
from rest_framework.test import APIClient

from marketplace.models import Contribution, Purse
from marketplace.services import purses
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import assert_error

from .factories import OfferFactory
from .purse_helpers import funded_challenge, publish_winners

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def awarded():
    challenge = funded_challenge(amounts=(10000,), places=(100,))
    root = make_solution(challenge, title="The first filter")
    winner = make_fork(make_fork(root))
    publish_winners(challenge, [winner])
    return challenge, winner, root


# --- API ----------------------------------------------------------------------------------------


def test_anyone_reads_a_purse_and_its_backers():
    challenge = funded_challenge(amounts=(10000, 2000))
    purse = api().get(f"/api/purses/{challenge.slug}/").json()
    assert (purse["held"], purse["raised"], purse["backers"]) == (11400, 12000, 2)
    assert purse["frozen"] is True
    backers = api().get(f"/api/purses/{challenge.slug}/contributions/").json()
    assert [row["amount"] for row in backers["results"]] == [10000, 2000]


def test_no_purse_is_404():
    assert_error(api().get(f"/api/purses/{ChallengeFactory().slug}/"), 404)


def test_the_organiser_sets_the_award_table_through_the_api():
    challenge = ChallengeFactory()
    response = api(challenge.created_by).put(
        f"/api/purses/{challenge.slug}/rules/",
        {"mode": "places", "places": [50, 30, 20], "lineage_share": "0.25"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["places"] == [50, 30, 20]


def test_others_cannot_set_the_award_table():
    challenge = ChallengeFactory()
    response = api(UserFactory()).put(
        f"/api/purses/{challenge.slug}/rules/", {"mode": "equal"}, format="json"
    )
    assert_error(response, 403)


def test_bad_award_tables_are_4xx():
    challenge = ChallengeFactory()
    response = api(challenge.created_by).put(
        f"/api/purses/{challenge.slug}/rules/", {"mode": "places", "places": [70, 20]},
        format="json",
    )  # fmt: skip
    assert_error(response, 400)


def test_a_contribution_through_the_api_answers_the_checkout():
    challenge = funded_challenge(amounts=())
    response = api(UserFactory()).post(
        f"/api/purses/{challenge.slug}/contributions/",
        {"amount": 2500, "public_name": "Ana"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["checkout_url"]
    assert Contribution.objects.get().public_name == "Ana"


def test_a_contribution_needs_a_signed_in_member():
    challenge = funded_challenge(amounts=())
    response = api().post(f"/api/purses/{challenge.slug}/contributions/", {"amount": 2500})
    assert response.status_code in (401, 403)


def test_a_late_contribution_is_409(awarded):
    challenge, _, _ = awarded
    response = api(UserFactory()).post(
        f"/api/purses/{challenge.slug}/contributions/", {"amount": 2500}, format="json"
    )
    assert_error(response, 409, "purse_closed")


def test_the_money_flow_and_earnings_say_where_every_cent_went(awarded):
    challenge, _winner, root = awarded
    flow = api().get(f"/api/purses/{challenge.slug}/flow/").json()["results"]
    assert sum(row["amount"] for row in flow) == 9500
    assert {row["kind"] for row in flow} == {"award", "lineage"}
    mine = api(root.author).get("/api/earnings/").json()["results"]
    assert [row["kind"] for row in mine] == ["lineage"]
    assert mine[0]["reason"].startswith("Lineage share of the award to")
    assert_error(api(root.author).get("/api/earnings/?kind=nope"), 400)


def test_earnings_are_private():
    assert api().get("/api/earnings/").status_code in (401, 403)


def test_the_royalty_preview_names_the_ancestors():
    root = make_solution()
    base = make_fork(root)
    offer = OfferFactory(base_solution=base, price=10000)
    preview = api().get(f"/api/offers/{offer.pk}/royalty/").json()
    assert preview["total"] == 416  # 5 % of 10000 = 500; the parent's 20/24
    assert preview["shares"][0]["author"] == root.author.username


# --- Pages ----------------------------------------------------------------------------------------


def test_the_challenge_page_shows_the_purse(client):
    challenge = funded_challenge(amounts=(10000,))
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert "Prize purse" in page and "€95.00" in page


def test_the_results_page_draws_where_the_money_went(
    client, awarded, django_assert_max_num_queries
):
    challenge, _winner, _root = awarded
    with django_assert_max_num_queries(25):
        page = client.get(f"/marketplace/purses/{challenge.slug}/")
    html = page.content.decode()
    assert 'class="lineage-svg money-tree"' in html and 'role="group"' in html
    assert "Where the money went" in html and "The first filter" in html


def test_members_contribute_from_the_page(client):
    challenge = funded_challenge(amounts=())
    backer = UserFactory()
    client.force_login(backer)
    response = client.post(
        f"/marketplace/purses/{challenge.slug}/contribute/", {"amount": "12.50", "public_name": ""}
    )
    assert response.status_code == 302
    assert Contribution.objects.get().amount == 1250


def test_the_organiser_sets_up_a_purse_from_the_page(client):
    challenge = ChallengeFactory()
    client.force_login(challenge.created_by)
    client.post(
        f"/marketplace/purses/{challenge.slug}/rules/",
        {"mode": "places", "places": "70, 30", "lineage_share": "10"},
    )
    purse = Purse.objects.get(challenge=challenge)
    assert purse.places == [70, 30] and str(purse.lineage_share) == "0.100"


def test_a_challenge_without_purse_shows_no_purse_page_to_members(client):
    client.force_login(UserFactory())
    assert client.get(f"/marketplace/purses/{ChallengeFactory().slug}/").status_code == 404


def test_the_earnings_page_lists_awards_and_lineage_shares(client, awarded):
    _, _winner, root = awarded
    client.force_login(root.author)
    page = client.get("/marketplace/earnings/").content.decode()
    assert "Lineage share of the award to" in page


def test_the_offer_page_shows_the_royalty_before_ordering(client):
    base = make_fork(make_solution())
    offer = OfferFactory(base_solution=base, price=10000)
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "5 % goes to the people this solution was built on" in page


def test_staff_money_page_shows_purses(client):
    funded_challenge()
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/marketplace/staff/")
    assert page.status_code == 200
    assert "Prize purses and lineage money" in page.content.decode()


def test_a_draft_challenge_may_get_a_purse_before_it_opens():
    challenge = ChallengeFactory(status="draft")
    purse = purses.purse_configure(challenge=challenge, by=challenge.created_by, mode="equal")
    assert purse.is_open
