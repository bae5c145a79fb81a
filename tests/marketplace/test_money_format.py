"""Money as readers write it (issue 22, marketplace.money): the currency's own minor units
(EUR 2 decimals, JPY none, KWD 3), the locale's symbols, separators and symbol placement, one
filter everywhere money is shown, and prices typed in the currency's own units."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from marketplace.models import Offer
from marketplace.money import format_money, minor_digits, plain_money, to_major, to_minor

NBSP, NNBSP, RLM = "\xa0", "\u202f", "\u200f"


@pytest.mark.parametrize(
    ("language", "currency", "amount", "expected"),
    [
        ("en", "EUR", 123450, "€1,234.50"),
        ("en", "JPY", 123450, "¥123,450"),
        ("en", "KWD", 123450, f"KWD{NBSP}123.450"),
        ("fr", "EUR", 123450, f"1{NNBSP}234,50{NBSP}€"),
        ("fr", "JPY", 123450, f"123{NNBSP}450{NBSP}JPY"),
        ("fr", "KWD", 123450, f"123,450{NBSP}KWD"),
        ("ar", "EUR", 123450, f"{RLM}1,234.50{NBSP}€"),
        ("ar", "JPY", 123450, f"{RLM}123,450{NBSP}JP¥"),
        ("ar", "KWD", 123450, f"{RLM}123.450{NBSP}د.ك.{RLM}"),
        ("pt-br", "EUR", 123450, f"€{NBSP}1.234,50"),
        ("es", "EUR", 123450, f"1.234,50{NBSP}€"),
    ],
)
def test_money_in_eur_jpy_and_kwd_is_formatted_per_locale(language, currency, amount, expected):
    assert format_money(amount, currency, language) == expected


def test_minor_units_follow_the_currency():
    assert [minor_digits(c) for c in ("EUR", "JPY", "KWD")] == [2, 0, 3]
    assert to_major(1250, "JPY") == Decimal(1250)
    assert to_major(1250, "KWD") == Decimal("1.250")
    assert to_minor(Decimal("1.25"), "KWD") == 1250
    assert plain_money(1250, "JPY") == "1,250 JPY"
    assert plain_money(1250, "EUR") == "12.50 EUR"


def test_the_template_filter_uses_the_active_language():
    template = Template('{% load marketplace %}{{ amount|money:"EUR" }}')
    with translation.override("fr"):
        assert template.render(Context({"amount": 1250})) == f"12,50{NBSP}€"
    with translation.override("en"):
        assert template.render(Context({"amount": 1250})) == "€12.50"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("currency", "typed", "stored"),
    [("EUR", "12.50", 1250), ("JPY", "1250", 1250), ("KWD", "1.250", 1250)],
)
def test_a_price_is_typed_in_the_currencys_own_units(currency, typed, stored):
    from marketplace.forms import OfferForm
    from tests.factories import UserFactory

    seller = UserFactory()
    data = {"title": "Help", "description": "I help.", "price": typed, "currency": currency,
            "delivery_days": 3, "capacity": 1, "is_active": "on"}  # fmt: skip
    form = OfferForm(data, seller=seller)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["price"] == stored
    offer = Offer(seller=seller, price=stored, currency=currency)
    shown = OfferForm(instance=offer, seller=seller)["price"].value()
    assert str(shown) == typed


@pytest.mark.django_db
def test_a_yen_price_with_decimals_is_a_form_error():
    from marketplace.forms import OfferForm
    from tests.factories import UserFactory

    data = {"title": "Help", "description": "I help.", "price": "12.50", "currency": "JPY",
            "delivery_days": 3, "capacity": 1, "is_active": "on"}  # fmt: skip
    form = OfferForm(data, seller=UserFactory())
    assert not form.is_valid()
    assert "JPY amounts have at most 0 decimal places." in form.errors["price"]


@pytest.mark.django_db
def test_the_marketplace_shows_a_yen_offer_in_yen(client):
    from tests.marketplace.factories import OfferFactory

    OfferFactory(title="Soldering lesson", price=3000, currency="JPY")
    page = client.get(reverse("marketplace:offer-list")).content.decode()
    assert "¥3,000" in page
    french = client.get(reverse("marketplace:offer-list"), HTTP_ACCEPT_LANGUAGE="fr")
    assert f"3{NNBSP}000{NBSP}JPY" in french.content.decode()
