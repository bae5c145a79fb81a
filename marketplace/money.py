"""Money as readers see it (issue 22). Amounts are stored as integer minor units of their
currency (house rule 6); how many minor units make one major unit depends on the currency:
100 for EUR, 1 for JPY (no decimals), 1000 for KWD (three). Babel (CLDR data) knows each
currency's digits, symbol and each locale's separators and symbol placement.

- `format_money`: for pages, in the active language: 1250 EUR is “€12.50” in English,
  “12,50 €” in French, “‏12.50 €” in Arabic; 1250 JPY is “¥1,250”; 1250 KWD “KWD 1.250”.
- `plain_money`: for texts stored once and read later (edit history, notification texts):
  the same digits in one fixed, locale-free form, “12.50 EUR”, “1,250 JPY”.
- `to_minor`: what a person typed (12.50 EUR, 1000 JPY, 1.250 KWD) as minor units of that
  currency, refusing more decimals than it has; every money input (forms, the price filter)
  reads amounts through it. `from_minor`: the other way, for a form's initial value.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from babel.core import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from django.utils import translation
from django.utils.translation import gettext as _

# ISO 4217's code for "no currency": Babel answers its default precision (2) for it.
NO_CURRENCY = "XXX"
# The largest amount in minor units a 64-bit integer column holds.
MAX_MINOR = 2**63 - 1
_LETTER_BESIDE_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def minor_digits(currency: str) -> int:
    """Decimal places of the currency: 2 for EUR, 0 for JPY, 3 for KWD (2 when unknown)."""
    return get_currency_precision((currency or "").upper() or NO_CURRENCY)


def to_major(amount: int, currency: str) -> Decimal:
    """1250 minor units → Decimal("12.50") EUR, Decimal("1250") JPY, Decimal("1.250") KWD."""
    return Decimal(int(amount)).scaleb(-minor_digits(currency))


def from_minor(amount: int, currency: str) -> Decimal:
    """The major-unit value a form shows for stored minor units (the same as `to_major`)."""
    return to_major(amount, currency)


class AmountError(ValueError):
    """An amount that cannot be money of its currency: its message says why, for the reader."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def to_minor(value: Decimal | str | int, currency: str) -> int:
    """An amount typed in major units as integer minor units of `currency`: “12.50” EUR → 1250,
    “1000” JPY → 1000, “1.250” KWD → 1250. More decimals than the currency has (“12.505” EUR,
    “1000.5” JPY) raise AmountError, never a rounded amount; so do “abc”, NaN and infinities."""
    currency = (currency or "").upper()
    try:
        value = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except ArithmeticError as error:
        raise AmountError(_("Enter an amount."), "invalid") from error
    if not value.is_finite():
        raise AmountError(_("Enter an amount."), "invalid")
    digits = minor_digits(currency)
    minor = value.scaleb(digits)
    if abs(minor) > MAX_MINOR:  # "1e5000": no amount the ledger's columns can hold
        raise AmountError(_("Enter an amount."), "invalid")
    if minor != minor.to_integral_value():
        raise AmountError(
            _("%(currency)s amounts have at most %(digits)s decimal places.")
            % {"currency": currency, "digits": digits},
            "max_decimal_places",
        )
    return int(minor)


def input_step(currency: str) -> str:
    """The step of a number input in `currency`'s major units: “0.01” EUR, “1” JPY, “0.001” KWD."""
    return f"{Decimal(1).scaleb(-minor_digits(currency)):f}"


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of a Django language code: "pt-br" → "pt_BR"; English by default."""
    return translation.to_locale(language or translation.get_language() or "en")


def format_money(amount: int | None, currency: str, language: str | None = None) -> str:
    """Minor units as a reader in `language` (the active one by default) writes money."""
    if amount is None or amount == "":
        return ""
    return _formatted(int(amount), (currency or "").upper(), babel_locale(language))


@functools.lru_cache(maxsize=4096)
def _formatted(amount: int, currency: str, locale: str) -> str:
    """`format_money`'s text, kept per amount, currency and locale: a list of orders or offers
    writes the same few prices again and again, and Babel reads its patterns each time."""
    major = to_major(amount, currency)
    if not currency:
        return f"{major:,}"
    try:
        text = format_currency(major, currency, locale=locale)
    except (UnknownLocaleError, ValueError):
        text = format_currency(major, currency, locale="en")
    # CLDR's currency spacing, which Babel leaves out: a code written in letters is kept apart
    # from the digits by a no-break space (“KWD\xa01.250”, not “KWD1.250”).
    return _LETTER_BESIDE_DIGIT.sub("\xa0", text)


def plain_money(amount: int, currency: str) -> str:
    """Minor units in a fixed form for stored texts: “12.50 EUR”, “1,250 JPY”, “1.250 KWD”."""
    digits = minor_digits(currency)
    return f"{to_major(amount, currency):,.{digits}f} {currency}".strip()
