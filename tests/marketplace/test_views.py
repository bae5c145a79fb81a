"""The marketplace pages: what each role sees and may do, and their query budgets."""

import pytest
from django.urls import reverse

from marketplace import services
from marketplace.models import Order
from tests.factories import UserFactory, make_solution

from .factories import OfferFactory, delivered_order, make_seller, paid_order, place

pytestmark = pytest.mark.django_db


def test_the_marketplace_page_lists_and_filters_offers(client):
    OfferFactory(title="Adapt the sand filter", price=20000)
    OfferFactory(title="Solar pump workshop", price=5000)
    page = client.get("/marketplace/")
    assert page.status_code == 200
    assert b"Adapt the sand filter" in page.content and b"Solar pump workshop" in page.content
    cheap = client.get("/marketplace/", {"max_price": "100"})
    assert b"Solar pump workshop" in cheap.content
    assert b"Adapt the sand filter" not in cheap.content
    searched = client.get("/marketplace/", {"q": "filter", "ordering": "price"})
    assert b"Solar pump" not in searched.content
    assert client.get("/marketplace/", {"max_price": "lots"}).status_code == 200


def test_the_nav_links_the_marketplace(client):
    assert b'href="/marketplace/"' in client.get("/").content


def test_the_offer_page_shows_the_seller_and_reviews(client):
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    services.order_review_save(order=order, by=order.buyer, rating=4, text="Careful work")
    page = client.get(order.offer.get_absolute_url())
    assert b"Careful work" in page.content
    assert b"trusted" in page.content
    assert b"Log in to order" in page.content


def test_ordering_from_the_offer_page(client):
    offer = OfferFactory()
    buyer = UserFactory()
    client.force_login(buyer)
    response = client.post(reverse("marketplace:order-place", args=[offer.pk]), {"brief": "Lyon"})
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert order.brief == "Lyon"


def test_the_seller_cannot_order_their_own_offer_from_the_page(client):
    offer = OfferFactory()
    client.force_login(offer.seller)
    client.post(reverse("marketplace:order-place", args=[offer.pk]))
    assert not Order.objects.exists()


def test_only_trusted_members_get_the_offer_form(client):
    client.force_login(UserFactory())
    assert client.get("/marketplace/offers/new/").status_code == 302
    client.force_login(make_seller())
    assert client.get("/marketplace/offers/new/").status_code == 200
    response = client.post(
        "/marketplace/offers/new/",
        {"title": "Workshop", "description": "Two hours", "price": "49.50", "currency": "EUR",
         "delivery_days": 3, "capacity": 2, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    offer = client.get(response["Location"]).context["offer"]
    assert offer.price == 4950


def test_the_order_page_is_for_the_parties_and_staff(client):
    order = place()
    client.force_login(UserFactory())
    assert client.get(order.get_absolute_url()).status_code == 404
    client.force_login(order.buyer)
    assert "Pay €100.00" in client.get(order.get_absolute_url()).content.decode()


def test_seller_steps_through_the_page(client):
    order = paid_order()
    client.force_login(order.seller)
    client.post(reverse("marketplace:order-step", args=[order.pk, "start"]))
    client.post(
        reverse("marketplace:order-deliver", args=[order.pk]),
        {"message": "Plan attached", "links": "https://example.org/a\nhttps://example.org/b"},
    )
    order.refresh_from_db()
    assert order.state == Order.State.DELIVERED
    assert order.messages.get(is_delivery=True).links == [
        "https://example.org/a",
        "https://example.org/b",
    ]
    # The buyer's step is refused to the seller, with a message and no change.
    response = client.post(
        reverse("marketplace:order-step", args=[order.pk, "accept"]),
        {"confirmed": "yes"},
        follow=True,
    )
    assert b"Only the buyer" in response.content
    order.refresh_from_db()
    assert order.state == Order.State.DELIVERED


def test_staff_resolve_from_the_page_and_see_the_ledger(client):
    order = delivered_order()
    services.order_dispute(order=order, by=order.buyer, reason="Wrong town")
    client.force_login(UserFactory(is_staff=True))
    page = client.get(order.get_absolute_url())
    assert b"Resolve the dispute" in page.content and b"Ledger (staff)" in page.content
    client.post(
        reverse("marketplace:order-resolve", args=[order.pk]),
        {"resolution": "split", "buyer_amount": "40.00", "confirmed": "yes"},
    )
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (Order.State.RESOLVED, 4000)
    assert client.get("/marketplace/staff/").status_code == 200


def test_the_staff_money_page_is_for_staff(client):
    client.force_login(UserFactory())
    assert client.get("/marketplace/staff/").status_code == 302


def test_a_solution_page_offers_to_hire_its_author(client):
    seller = make_seller()
    solution = make_solution(author=seller)
    OfferFactory(seller=seller, base_solution=solution, title="Adapt it to your town")
    page = client.get(solution.get_absolute_url())
    assert b"Hire the author" in page.content
    assert b"Adapt it to your town" in page.content


def test_a_profile_shows_the_sellers_services(client):
    offer = OfferFactory(title="Expert review")
    assert b"Expert review" in client.get(offer.seller.get_absolute_url()).content


def test_the_premium_page_and_subscribing(client):
    user = UserFactory()
    client.force_login(user)
    assert b"Premium" in client.get("/premium/").content
    response = client.post("/premium/subscribe/", {"interval": "monthly"})
    checkout = response["Location"]
    assert checkout.startswith("/marketplace/checkout/")
    client.post(checkout, {"outcome": "succeed"})
    assert b"Cancel at period end" in client.get("/premium/").content


def test_my_orders_shows_the_balance_and_pays_out(client):
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    client.force_login(order.seller)
    assert "€90.00" in client.get("/marketplace/orders/").content.decode()
    client.post("/marketplace/payouts/", {"amount": "50.00", "confirmed": "yes"})
    assert "€40.00" in client.get("/marketplace/orders/").content.decode()


# --- Query budgets ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 12])
def test_the_marketplace_page_has_a_query_budget(client, django_assert_max_num_queries, count):
    for _ in range(count):
        OfferFactory(base_solution=None)
    with django_assert_max_num_queries(8):
        assert client.get("/marketplace/").status_code == 200


@pytest.mark.parametrize("orders", [1, 6])
def test_the_offer_page_has_a_query_budget(client, django_assert_max_num_queries, orders):
    offer = OfferFactory(capacity=10)
    for _ in range(orders):
        order = delivered_order(offer=offer)
        services.order_accept(order=order, by=order.buyer)
        services.order_review_save(order=order, by=order.buyer, rating=5)
    with django_assert_max_num_queries(12):
        assert client.get(offer.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("messages", [1, 10])
def test_the_order_page_has_a_query_budget(client, django_assert_max_num_queries, messages):
    order = delivered_order()
    for n in range(messages):
        services.order_message_post(order=order, by=order.buyer, body=f"Message {n}")
    client.force_login(order.buyer)
    with django_assert_max_num_queries(16):
        assert client.get(order.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("count", [2, 8])
def test_my_orders_has_a_query_budget(client, django_assert_max_num_queries, count):
    buyer = UserFactory()
    for _ in range(count):
        place(buyer=buyer)
    client.force_login(buyer)
    with django_assert_max_num_queries(12):
        assert client.get("/marketplace/orders/").status_code == 200


@pytest.mark.parametrize("count", [2, 8])
def test_the_orders_api_has_a_query_budget(django_assert_max_num_queries, count):
    from rest_framework.test import APIClient

    buyer = UserFactory()
    for _ in range(count):
        place(buyer=buyer)
    api = APIClient()
    api.force_authenticate(buyer)
    with django_assert_max_num_queries(6):
        assert api.get("/api/orders/").status_code == 200


def test_staff_see_revenue_by_month_escrow_and_a_clean_audit(client):
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    paid_order()  # another order whose money is still in escrow
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/marketplace/staff/").content.decode()
    assert "The ledger audit passes" in page
    assert "€10.00" in page  # the fee of the completed order, this month's revenue
    assert "€100.00" in page  # held in escrow


@pytest.mark.parametrize(
    "model", ["ledgertransaction", "ledgerentry", "ledgeraccount", "payment", "providerevent"]
)
def test_the_books_are_read_only_in_the_admin(client, model):
    order = delivered_order()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(f"/admin/marketplace/{model}/add/").status_code == 403
    obj = {
        "ledgertransaction": lambda: order.transactions.first(),
        "ledgerentry": lambda: order.transactions.first().entries.first(),
        "ledgeraccount": lambda: order.transactions.first().entries.first().account,
        "payment": lambda: order.payments.first(),
        "providerevent": lambda: order.payments.first().events.first(),
    }[model]()
    assert (
        client.post(f"/admin/marketplace/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_choice_label_says_what_get_display_says_in_the_readers_language():
    from django.utils import translation

    from peerhub.templatetags.peerhub import choice_label

    order = delivered_order()
    for state in (Order.State.DELIVERED, Order.State.CANCELLED, "not-a-state"):
        order.state = state
        for language in ("en", "fr"):
            with translation.override(language):
                assert str(choice_label(order, "state")) == str(order.get_state_display())
