"""The marketplace listing at size: offer tallies kept on the row by the order services, read
without DISTINCT or GROUP BY, and the page's query count the same at two sizes."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from marketplace import selectors, services
from marketplace.models import Offer
from marketplace.services.tallies import offer_tallies_expressions, offer_tallies_rebuild
from tests.factories import UserFactory

from .factories import OfferFactory, delivered_order, make_seller, place

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 12


def _completed(offer, rating=None):
    order = delivered_order(offer=offer)
    services.order_accept(order=order, by=order.buyer)
    if rating is not None:
        services.order_review_save(order=order, by=order.buyer, rating=rating)
    return order


def _true_tallies(offer) -> tuple:
    row = (
        Offer.objects.filter(pk=offer.pk)
        .annotate(**{f"true_{k}": v for k, v in offer_tallies_expressions().items()})
        .values_list("true_completed_orders", "true_rating_count", "true_rating_sum")
        .get()
    )
    return tuple(row)


def _stored(offer) -> tuple:
    offer.refresh_from_db()
    return (offer.completed_orders, offer.rating_count, offer.rating_sum)


def test_completing_and_reviewing_orders_keeps_the_offers_tallies():
    offer = OfferFactory(capacity=5)
    _completed(offer, rating=4)
    _completed(offer, rating=2)
    _completed(offer)
    place(offer=offer)  # not completed: not counted
    assert _stored(offer) == (3, 2, 6) == _true_tallies(offer)
    listed = selectors.offer_list(user=UserFactory()).get(pk=offer.pk)
    assert (listed.completed, listed.rating) == (3, 3.0)


def test_the_rebuild_command_corrects_drifted_tallies_and_leaves_right_ones():
    right, drifted = OfferFactory(), OfferFactory()
    _completed(right, rating=5)
    _completed(drifted, rating=3)
    Offer.objects.filter(pk=drifted.pk).update(
        completed_orders=F("completed_orders") + 7, rating_sum=0
    )
    assert offer_tallies_rebuild() == 1
    assert _stored(drifted) == (1, 1, 3) and _stored(right) == (1, 1, 5)
    call_command("offer_tallies_rebuild")
    assert offer_tallies_rebuild() == 0


def test_the_best_rated_come_first_and_the_unrated_last():
    unrated = OfferFactory()
    good, fair = OfferFactory(), OfferFactory()
    _completed(good, rating=5)
    _completed(fair, rating=3)
    ranked = list(selectors.offer_list(user=None, sort="rating"))
    assert ranked == [good, fair, unrated]


def test_the_listing_query_neither_groups_nor_deduplicates():
    _completed(OfferFactory(), rating=4)
    offers = selectors.offer_list(user=UserFactory(), value="openness", challenge="x")
    for query in (offers, selectors.offer_list(user=None, sort="rating")):
        sql = str(query.query).upper()
        assert "DISTINCT" not in sql and "GROUP BY" not in sql


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/marketplace/").status_code == 200
    return len(ctx.captured_queries)


def _grow(n: int) -> None:
    seller = make_seller()
    for _ in range(n):
        offer = OfferFactory(seller=seller)
        _completed(offer, rating=5)


@pytest.mark.usefixtures("page_cache_off")
@pytest.mark.parametrize("signed_in", [False, True])
def test_the_marketplace_page_costs_the_same_queries_at_two_sizes(client, signed_in):
    if signed_in:
        client.force_login(make_seller())
    _grow(2)
    client.get("/marketplace/")  # warm per-process caches
    small = _page_queries(client)
    _grow(8)
    assert _page_queries(client) == small <= PAGE_BUDGET
