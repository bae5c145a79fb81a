"""The offer list's filters and offers are kept once for every member who lists like a visitor
(challenges.pagecache.as_visitors_see; marketplace.selectors.lists_like_a_visitor, issue 17):
the same part they would get live, one per query string, new once an offer is written, and
never shared with a seller who has a paused offer or a member who may see more."""

from unittest import mock

import pytest
from django.urls import reverse

from marketplace import selectors
from tests.factories import UserFactory

from .factories import OfferFactory

pytestmark = pytest.mark.django_db

URL = reverse("marketplace:offer-list")


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def part(client, query=None) -> str:
    html = client.get(URL, query or {}).content.decode()
    return html[
        html.index('<form method="get" class="filter-bar offer-filters"') : html.index("</main>")
    ]


def builds():
    return mock.patch.object(selectors, "offer_list", wraps=selectors.offer_list)


def test_the_kept_part_is_each_members_own_and_built_once(client, settings):
    OfferFactory(title="Rain barrel survey")
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = part(client)
    settings.PEERHUB_PAGE_CACHE = True
    with builds() as built:
        kept = part(client)
        client.force_login(second)
        assert part(client) == kept
        assert "Rain barrel survey" not in part(client, {"q": "workshop"})
    assert built.call_count == 2  # one per query string
    assert kept == live and "Rain barrel survey" in kept


def test_a_new_offer_shows_at_once(client):
    client.force_login(UserFactory())
    assert "Clay oven workshop" not in part(client)
    OfferFactory(title="Clay oven workshop")
    assert "Clay oven workshop" in part(client)


def test_a_seller_with_a_paused_offer_gets_their_own_list(client):
    paused = OfferFactory(title="Paused survey", is_active=False)
    OfferFactory(title="Open survey")
    client.force_login(UserFactory())
    assert "Paused survey" not in part(client)
    assert not selectors.lists_like_a_visitor(paused.seller)
    client.force_login(paused.seller)
    with builds() as built:
        assert "Paused survey" in part(client)
        part(client)
    assert built.call_count == 2  # never kept: built for them each time


def test_the_sellers_own_buttons_stay_theirs(client):
    OfferFactory()
    member = UserFactory()
    client.force_login(member)
    assert "Offer a service" not in client.get(URL).content.decode()
    seller = OfferFactory().seller
    client.force_login(seller)
    assert "Offer a service" in client.get(URL).content.decode()


API = "/api/offers/"


def test_the_api_answer_is_kept_like_the_page(client, settings):
    OfferFactory(title="Rain barrel survey")
    paused = OfferFactory(title="Paused survey", is_active=False)
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = client.get(API).json()
    settings.PEERHUB_PAGE_CACHE = True
    with builds() as built:
        kept = client.get(API).json()
        client.force_login(second)
        assert client.get(API).json() == kept == live
        assert built.call_count == 1
        client.force_login(paused.seller)
        titles = [offer["title"] for offer in client.get(API).json()["results"]]
        assert "Paused survey" in titles and built.call_count == 2
    assert [offer["title"] for offer in kept["results"]] == ["Rain barrel survey"]
    response = client.get(API, {"min_price": "-1"})
    assert response.status_code == 400 and "min_price" in str(response.json())
