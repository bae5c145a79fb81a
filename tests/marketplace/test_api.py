"""The marketplace API: the journey, who may see and do what, filters, and Idempotency-Key."""

from unittest import mock

import pytest
from rest_framework.test import APIClient

from marketplace import services
from marketplace.models import IdempotentRequest, Order, Payout
from tests.factories import UserFactory, make_solution
from tests.helpers import after_commit, assert_error

from .factories import OfferFactory, delivered_order, make_seller, place

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _checkout(client, payment):
    """Answer the sandbox checkout as the payer's browser would."""
    from django.test import Client

    browser = Client()
    browser.force_login(Order.objects.get(pk=payment["order"]).buyer)
    assert browser.post(payment["checkout_url"], {"outcome": "succeed"}).status_code == 302


def test_the_whole_journey_through_the_api():
    offer = OfferFactory(price=2500)
    buyer = UserFactory()
    api, seller_api = client_for(buyer), client_for(offer.seller)
    created = api.post("/api/orders/", {"offer": offer.pk, "brief": "For Lyon"}, format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["state"], order["price"], order["fee"]) == ("pending_payment", 2500, 250)
    payment = api.post(f"/api/orders/{order['id']}/pay/").json()
    assert payment["status"] == "pending" and payment["checkout_url"]
    _checkout(api, payment)
    assert seller_api.post(f"/api/orders/{order['id']}/start/").json()["state"] == "in_progress"
    delivered = seller_api.post(
        f"/api/orders/{order['id']}/deliver/",
        {"message": "The adapted plan", "links": ["https://example.org/plan.pdf"]},
        format="json",
    )
    assert delivered.json()["state"] == "delivered"
    done = api.post(f"/api/orders/{order['id']}/accept/").json()
    assert done["state"] == "completed"
    assert [e["to_state"] for e in done["timeline"]] == [
        "pending_payment", "paid", "in_progress", "delivered", "completed",
    ]  # fmt: skip
    review = api.post(f"/api/orders/{order['id']}/review/", {"rating": 5, "text": "Great"})
    assert review.status_code == 201
    assert seller_api.get("/api/balance/").json() == [
        {"currency": "EUR", "available": 2250, "paid_out": 0}
    ]
    with after_commit():  # the worker sends the payout once the request has committed
        payout = seller_api.post("/api/payouts/", {"amount": 2000}, format="json")
    assert payout.status_code == 201 and payout.json()["state"] == "created"
    assert seller_api.get("/api/balance/").json()[0]["available"] == 250
    (sent,) = seller_api.get("/api/payouts/").json()["results"]
    assert sent["state"] == "done" and sent["attempts"] == 1 and sent["provider_reference"]
    messages = api.get(f"/api/orders/{order['id']}/messages/").json()["results"]
    assert messages[0]["is_delivery"] is True


def test_orders_are_404_to_strangers_and_401_to_visitors():
    order = place()
    assert_error(client_for(UserFactory()).get(f"/api/orders/{order.pk}/"), 404)
    assert_error(APIClient().get(f"/api/orders/{order.pk}/"), 401)
    assert client_for(UserFactory(is_staff=True)).get(f"/api/orders/{order.pk}/").status_code == 200


def test_wrong_role_is_403_and_wrong_state_is_409():
    order = place()
    assert_error(client_for(order.seller).post(f"/api/orders/{order.pk}/pay/"), 403)
    assert_error(
        client_for(order.buyer).post(f"/api/orders/{order.pk}/accept/"), 409, "invalid_transition"
    )
    assert_error(
        client_for(order.buyer).post(f"/api/orders/{order.pk}/resolve/", {"resolution": "refund"}),
        403,
    )


def test_buying_your_own_offer_is_refused():
    offer = OfferFactory()
    response = client_for(offer.seller).post(
        "/api/orders/", {"offer": offer.pk, "brief": "For me."}, format="json"
    )
    assert_error(response, 403, "own_offer")


def test_listing_an_offer_needs_the_privilege():
    data = {"title": "Workshop", "description": "Two hours", "price": 5000, "delivery_days": 3}
    assert_error(client_for(UserFactory()).post("/api/offers/", data, format="json"), 403)
    response = client_for(make_seller()).post("/api/offers/", data, format="json")
    assert response.status_code == 201
    assert response.json()["currency"] == "EUR"


def test_offers_only_build_on_the_sellers_own_visible_solutions():
    seller = make_seller()
    theirs = make_solution()
    data = {"title": "W", "description": "D", "price": 5000, "delivery_days": 3}
    response = client_for(seller).post(
        "/api/offers/", {**data, "base_solution": theirs.pk}, format="json"
    )
    assert_error(response, 400, "invalid_solution")


def test_sellers_pause_their_offers_and_others_cannot():
    offer = OfferFactory()
    assert_error(
        client_for(UserFactory()).patch(f"/api/offers/{offer.pk}/", {"is_active": False}), 403
    )
    response = client_for(offer.seller).patch(f"/api/offers/{offer.pk}/", {"is_active": False})
    assert response.json()["is_active"] is False
    assert APIClient().get("/api/offers/").json()["count"] == 0


def test_offer_filters_and_sorts():
    cheap = OfferFactory(price=1000, delivery_days=2)
    dear = OfferFactory(price=9000, delivery_days=20, title="Expert review of your water plan")
    api = APIClient()

    def ids(**params):
        return [o["id"] for o in api.get("/api/offers/", params).json()["results"]]

    assert ids(ordering="price") == [cheap.pk, dear.pk]
    assert ids(ordering="-price") == [dear.pk, cheap.pk]
    assert ids(max_price=5000) == [cheap.pk]
    assert ids(max_delivery_days=5) == [cheap.pk]
    assert ids(q="water") == [dear.pk]
    assert ids(seller_level=3) == sorted([cheap.pk, dear.pk], reverse=True)
    assert ids(seller_level=4) == []
    assert_error(api.get("/api/offers/", {"ordering": "cheapest"}), 400)


def test_a_repeated_idempotency_key_replays_the_first_answer():
    order = place()
    api = client_for(order.buyer)
    headers = {"Idempotency-Key": "pay-1"}
    first = api.post(f"/api/orders/{order.pk}/pay/", headers=headers)
    second = api.post(f"/api/orders/{order.pk}/pay/", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert order.payments.count() == 1


def test_the_same_key_with_other_parameters_is_refused():
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    api = client_for(order.seller)
    headers = {"Idempotency-Key": "payout-1"}
    assert (
        api.post("/api/payouts/", {"amount": 100}, format="json", headers=headers).status_code
        == 201
    )
    again = api.post("/api/payouts/", {"amount": 100}, format="json", headers=headers)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert_error(
        api.post("/api/payouts/", {"amount": 200}, format="json", headers=headers),
        422,
        "idempotency_key_reused",
    )
    assert Payout.objects.count() == 1


def test_a_refusal_is_replayed_too_and_keys_belong_to_one_member():
    order = place()
    api = client_for(order.seller)
    headers = {"Idempotency-Key": "k"}
    assert_error(api.post(f"/api/orders/{order.pk}/pay/", headers=headers), 403)
    assert_error(api.post(f"/api/orders/{order.pk}/pay/", headers=headers), 403)
    # The buyer's own "k" is another key.
    assert (
        client_for(order.buyer).post(f"/api/orders/{order.pk}/pay/", headers=headers).status_code
        == 200
    )
    assert IdempotentRequest.objects.count() == 2


def test_subscriptions_and_plans():
    user = UserFactory()
    api = client_for(user)
    plans = APIClient().get("/api/plans/").json()["results"]
    assert [p["code"] for p in plans] == ["free", "premium"]
    payment = api.post("/api/subscriptions/", {"interval": "monthly"}, format="json")
    assert payment.status_code == 201
    services.sandbox_answer(payment=user.payments.get(), by=user, outcome="succeed")
    mine = api.get("/api/subscriptions/").json()["results"]
    assert mine[0]["status"] == "active" and mine[0]["plan"] == "premium"
    assert api.post("/api/subscriptions/cancel/").json()["cancel_at_period_end"] is True
    assert_error(api.post("/api/subscriptions/", {"interval": "monthly"}, format="json"), 409)


def test_an_idempotency_key_expires_after_a_day_and_an_abandoned_one_is_released():
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.models import IdempotentRequest

    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    api = client_for(order.seller)
    headers = {"Idempotency-Key": "payout-2"}
    api.post("/api/payouts/", {"amount": 100}, format="json", headers=headers)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = api.post("/api/payouts/", {"amount": 100}, format="json", headers=headers)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Payout.objects.count() == 2
    # A first request whose process was killed never answered: busy while it may still run,
    # then released for a retry.
    key = {"Idempotency-Key": "payout-3"}
    with (
        mock.patch.object(services, "payout_request", side_effect=SystemExit("killed")),
        pytest.raises(SystemExit),
    ):
        api.post("/api/payouts/", {"amount": 100}, format="json", headers=key)
    busy = api.post("/api/payouts/", {"amount": 100}, format="json", headers=key)
    assert_error(busy, 409, "idempotency_busy")
    IdempotentRequest.objects.filter(key="payout-3").update(
        created_at=timezone.now() - timedelta(minutes=6)
    )
    retried = api.post("/api/payouts/", {"amount": 100}, format="json", headers=key)
    assert retried.status_code == 201
    assert Payout.objects.count() == 3


def test_an_order_events_written_out_representation_is_what_its_fields_give():
    """OrderEventSerializer writes its dict by hand for speed: the same, key for key, as the
    generic ModelSerializer walk over the fields it declares, with and without an actor."""
    from rest_framework import serializers as drf

    from marketplace.api.serializers import OrderEventSerializer

    order = delivered_order()
    events = list(order.events.select_related("actor"))
    assert any(e.actor_id for e in events)
    events[0].actor = None
    serializer = OrderEventSerializer()
    for event in events:
        generic = drf.ModelSerializer.to_representation(serializer, event)
        assert serializer.to_representation(event) == dict(generic)
