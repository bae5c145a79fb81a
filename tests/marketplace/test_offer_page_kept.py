"""An offer's page is kept once for everyone (issue 17): its row as a visitor reads it, for
every member who sees what a visitor sees, and its reviews, its seller's standing and its
royalty preview for every reader; what the member may do (order, edit) is theirs. A review
shows at once; a paused offer stays its seller's."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace import selectors, services
from marketplace.models import Order
from tests.factories import UserFactory
from tests.helpers import page_main

from .factories import OfferFactory, delivered_order, place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PEERHUB_PAGE_CACHE = True


def main(client, offer) -> str:
    return page_main(client, reverse("marketplace:offer-detail", args=[offer.pk]))


def test_members_share_the_offer_page_and_get_what_they_would_get_live(client, settings):
    offer = OfferFactory(title="Adapt the filter to Goma")
    first, second = UserFactory.create_batch(2)
    settings.PEERHUB_PAGE_CACHE = False
    client.force_login(first)
    live = main(client, offer)
    settings.PEERHUB_PAGE_CACHE = True
    with (
        mock.patch.object(selectors, "offer_get", wraps=selectors.offer_get) as rows,
        mock.patch.object(selectors, "offer_reviews", wraps=selectors.offer_reviews) as reviews,
    ):
        kept = main(client, offer)
        client.force_login(second)
        assert main(client, offer) == kept
    assert rows.call_count == 1 and reviews.call_count == 1
    assert kept == live and "Adapt the filter to Goma" in kept


def test_the_seller_may_edit_and_a_review_shows_at_once(client):
    order = delivered_order()
    offer = order.offer
    edit = reverse("marketplace:offer-edit", args=[offer.pk])
    client.force_login(UserFactory())
    assert edit not in main(client, offer)
    client.force_login(offer.seller)
    assert edit in main(client, offer)
    services.order_accept(order=order, by=order.buyer)
    services.order_review_save(order=order, by=order.buyer, rating=5, text="Clear and on time.")
    client.force_login(UserFactory())
    assert "Clear and on time." in main(client, offer)


def test_a_paused_offer_is_its_sellers_alone(client):
    offer = OfferFactory(title="Paused for the rains", is_active=False)
    url = reverse("marketplace:offer-detail", args=[offer.pk])
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(offer.seller)
    assert "Paused for the rains" in main(client, offer)
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_a_kept_offer_counts_its_slots_again_once_a_reservation_has_lapsed():
    offer = OfferFactory(capacity=1)
    held = place(offer=offer)
    row = selectors.offer_get(user=UserFactory(), pk=offer.pk)
    assert row.active == 1 and row.holds_lapse_at == held.reserved_until
    assert selectors.slots_now(row) == 1  # still held: the row's count, no query
    Order.objects.filter(pk=held.pk).update(reserved_until=timezone.now() - timedelta(seconds=1))
    row.holds_lapse_at = timezone.now() - timedelta(seconds=1)  # as if the clock had moved
    assert selectors.slots_now(row) == 0
