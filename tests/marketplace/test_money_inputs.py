"""Money typed by people (issue 22): every input reads the amount in its own currency's minor
units through marketplace.money.to_minor — a purse's contribution in the purse's currency, a
payout in the payout account's, a dispute split in the order's, the price filter in the chosen
(or the site's) currency. 12.50 EUR is 1250, 1000 JPY is 1000, 1.250 KWD is 1250; more decimals
than the currency has are refused, never rounded."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from marketplace import services
from marketplace.forms import ContributeForm, PayoutForm, ResolveForm
from marketplace.models import Contribution, Order, Payout, Purse
from marketplace.money import AmountError, from_minor, to_minor
from tests.factories import UserFactory

from .factories import OfferFactory, delivered_order
from .purse_helpers import funded_challenge

pytestmark = pytest.mark.django_db

TYPED = [("EUR", "12.50", 1250), ("JPY", "1000", 1000), ("KWD", "12.250", 12250)]
TOO_PRECISE = [("EUR", "12.505"), ("JPY", "1000.5"), ("KWD", "1.2505")]


# --- The one helper ---------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "typed", "minor"), TYPED)
def test_the_helper_reads_each_currency_in_its_own_units(currency, typed, minor):
    assert to_minor(typed, currency) == minor
    assert to_minor(Decimal(typed), currency.lower()) == minor
    assert from_minor(minor, currency) == Decimal(typed)


@pytest.mark.parametrize(("currency", "typed"), TOO_PRECISE)
def test_the_helper_refuses_more_decimals_than_the_currency_has(currency, typed):
    with pytest.raises(AmountError) as refused:
        to_minor(typed, currency)
    assert refused.value.code == "max_decimal_places" and currency in refused.value.message


@pytest.mark.parametrize("typed", ["abc", "NaN", "Infinity", ""])
def test_the_helper_refuses_what_is_not_an_amount(typed):
    with pytest.raises(AmountError):
        to_minor(typed, "EUR")


def test_trailing_zeros_are_not_extra_decimals():
    assert to_minor("1000.00", "JPY") == 1000 and to_minor("12.5", "EUR") == 1250


# --- The purse contribution -------------------------------------------------------------------


def purse_in(currency: str):
    challenge = funded_challenge(amounts=())
    Purse.objects.filter(challenge=challenge).update(currency=currency)
    return challenge


@pytest.mark.parametrize(("currency", "typed", "minor"), TYPED)
def test_a_contribution_is_read_in_the_purses_currency(client, currency, typed, minor):
    challenge = purse_in(currency)
    client.force_login(UserFactory())
    response = client.post(
        reverse("marketplace:purse-contribute", args=[challenge.slug]),
        {"amount": typed, "public_name": ""},
    )
    assert response.status_code == 302
    contribution = Contribution.objects.get()
    assert (contribution.amount, contribution.currency) == (minor, currency)


@pytest.mark.parametrize(("currency", "typed"), TOO_PRECISE)
def test_a_contribution_with_too_many_decimals_is_refused(client, currency, typed):
    challenge = purse_in(currency)
    client.force_login(UserFactory())
    response = client.post(
        reverse("marketplace:purse-contribute", args=[challenge.slug]),
        {"amount": typed, "public_name": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "decimal places" in response.content.decode()
    assert not Contribution.objects.exists()


def test_the_purse_page_asks_for_yen_in_whole_yen(client):
    challenge = purse_in("JPY")
    client.force_login(UserFactory())
    html = client.get(reverse("marketplace:purse", args=[challenge.slug])).content.decode()
    assert 'step="1"' in html and "Amount in JPY" in html
    form = ContributeForm(currency="KWD")
    assert 'step="0.001"' in str(form["amount"])


# --- The payout -------------------------------------------------------------------------------


def earned(currency: str, price: int):
    order = delivered_order(offer=OfferFactory(currency=currency, price=price))
    services.order_accept(order=order, by=order.buyer)
    return order.seller


@pytest.mark.parametrize(("currency", "typed", "minor"), TYPED)
def test_a_payout_is_read_in_the_accounts_currency(client, currency, typed, minor):
    seller = earned(currency, 100000)
    client.force_login(seller)
    client.post(
        reverse("marketplace:payout-request"),
        {"currency": currency, "amount": typed, "confirmed": "yes"},
    )
    payout = Payout.objects.get(seller=seller)
    assert (payout.amount, payout.currency) == (minor, currency)


@pytest.mark.parametrize(("currency", "typed"), TOO_PRECISE)
def test_a_payout_with_too_many_decimals_pays_nothing(client, currency, typed):
    seller = earned(currency, 100000)
    client.force_login(seller)
    response = client.post(
        reverse("marketplace:payout-request"),
        {"currency": currency, "amount": typed, "confirmed": "yes"},
        follow=True,
    )
    assert "decimal places" in response.content.decode()
    assert not Payout.objects.exists()  # not "everything available" either


def test_the_payout_form_offers_the_members_currencies():
    seller = earned("JPY", 100000)
    form = PayoutForm(user=seller)
    assert [code for code, _ in form.fields["currency"].choices] == ["EUR", "JPY"]
    assert not PayoutForm({"currency": "USD", "amount": "5"}, user=seller).is_valid()


def test_an_unreadable_payout_amount_pays_nothing(client):
    seller = earned("EUR", 10000)
    client.force_login(seller)
    client.post(reverse("marketplace:payout-request"), {"amount": "lots", "confirmed": "yes"})
    assert not Payout.objects.exists()


# --- The dispute split (staff) ----------------------------------------------------------------


def disputed(currency: str) -> Order:
    order = delivered_order(offer=OfferFactory(currency=currency, price=100000))
    return services.order_dispute(order=order, by=order.buyer, reason="Wrong town")


@pytest.mark.parametrize(("currency", "typed", "minor"), TYPED)
def test_a_split_is_read_in_the_orders_currency(client, currency, typed, minor):
    order = disputed(currency)
    client.force_login(UserFactory(is_staff=True))
    client.post(
        reverse("marketplace:order-resolve", args=[order.pk]),
        {"resolution": "split", "buyer_amount": typed, "confirmed": "yes"},
    )
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (Order.State.RESOLVED, minor)


@pytest.mark.parametrize(("currency", "typed"), TOO_PRECISE)
def test_a_split_with_too_many_decimals_is_refused(client, currency, typed):
    order = disputed(currency)
    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        reverse("marketplace:order-resolve", args=[order.pk]),
        {"resolution": "split", "buyer_amount": typed, "confirmed": "yes"},
        follow=True,
    )
    assert "decimal places" in response.content.decode()
    order.refresh_from_db()
    assert order.state == Order.State.DISPUTED
    assert not ResolveForm(
        {"resolution": "split", "buyer_amount": typed}, currency=currency
    ).is_valid()


# --- The price filter -------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "typed", "minor"), TYPED)
def test_the_price_filter_reads_the_chosen_currency(client, currency, typed, minor):
    OfferFactory(title="At the limit", currency=currency, price=minor)
    OfferFactory(title="Just above", currency=currency, price=minor + 1)
    OfferFactory(title="Another currency", currency="CHF", price=minor)
    page = client.get(reverse("marketplace:offer-list"), {"currency": currency, "max_price": typed})
    html = page.content.decode()
    assert "At the limit" in html
    assert "Just above" not in html and "Another currency" not in html


def test_the_price_filter_reads_the_sites_currency_by_default(client, settings):
    OfferFactory(title="Cheap enough", price=1250)
    OfferFactory(title="Too dear", price=1251)
    html = client.get(reverse("marketplace:offer-list"), {"max_price": "12.50"}).content.decode()
    assert "Cheap enough" in html and "Too dear" not in html


@pytest.mark.parametrize(("currency", "typed"), TOO_PRECISE)
def test_the_price_filter_refuses_too_many_decimals(client, currency, typed):
    OfferFactory(title="Any offer", currency=currency, price=100)
    page = client.get(reverse("marketplace:offer-list"), {"currency": currency, "min_price": typed})
    html = page.content.decode()
    assert page.status_code == 200 and "decimal places" in html and "Any offer" not in html


def test_the_api_price_filter_stays_in_minor_units_with_a_currency():
    OfferFactory(title="Yen", currency="JPY", price=1000)
    OfferFactory(title="Euro", currency="EUR", price=1000)
    api = APIClient()
    found = api.get("/api/offers/", {"currency": "JPY", "max_price": 1000}).json()["results"]
    assert [offer["title"] for offer in found] == ["Yen"]
    assert api.get("/api/offers/", {"max_price": "12.50"}).status_code == 400


def test_api_amounts_are_whole_minor_units_or_a_400():
    seller = earned("JPY", 100000)
    api = APIClient()
    api.force_authenticate(seller)
    response = api.post("/api/payouts/", {"amount": "12.50", "currency": "JPY"}, format="json")
    assert response.status_code == 400
    assert "amount" in response.json()["error"]["fields"]
    assert not Payout.objects.exists()


def test_a_too_small_contribution_is_explained_in_the_purses_currency(client, settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "purse_min_contribution": 500}
    challenge = purse_in("JPY")
    client.force_login(UserFactory())
    response = client.post(
        reverse("marketplace:purse-contribute", args=[challenge.slug]),
        {"amount": "499", "public_name": ""},
        follow=True,
    )
    assert "The smallest contribution is ¥500." in response.content.decode()
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("typed", ["1e5000", "-1e5000", "92233720368547758.08"])
def test_an_amount_no_column_can_hold_is_refused_not_a_500(typed):
    with pytest.raises(AmountError):
        to_minor(typed, "EUR")


@pytest.mark.django_db
def test_the_marketplace_filter_answers_a_huge_price_with_a_form_error(client):
    response = client.get(reverse("marketplace:offer-list"), {"min_price": "1e5000"})
    assert response.status_code == 200
