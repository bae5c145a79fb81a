"""Money as readers see it (issue 22). Amounts are stored as integer minor units of their
currency (house rule 6); how many minor units make one major unit depends on the currency:
100 for EUR, 1 for JPY (no decimals), 1000 for KWD (three). Babel (CLDR data) knows each
currency's digits, symbol and each locale's separators and symbol placement.

- `format_money`: for pages, in the active language: 1250 EUR is “€12.50” in English,
  “12,50 €” in French, “‏12.50 €” in Arabic; 1250 JPY is “¥1,250”; 1250 KWD “KWD 1.250”.
- `plain_money`: for texts stored once and read later (edit history, notification texts):
  the same digits in one fixed, locale-free form, “12.50 EUR”, “1,250 JPY”.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.core import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from django.utils import translation

_LETTER_BESIDE_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def minor_digits(currency: str) -> int:
    """Decimal places of the currency: 2 for EUR, 0 for JPY, 3 for KWD (2 when unknown)."""
    return get_currency_precision((currency or "").upper() or "XXX")


def to_major(amount: int, currency: str) -> Decimal:
    """1250 minor units → Decimal("12.50") EUR, Decimal("1250") JPY, Decimal("1.250") KWD."""
    return Decimal(int(amount)).scaleb(-minor_digits(currency))


def to_minor(value: Decimal, currency: str) -> int:
    """Decimal("12.50") EUR → 1250. Callers check the value has no more digits than allowed."""
    return int(Decimal(value).scaleb(minor_digits(currency)))


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of a Django language code: "pt-br" → "pt_BR"; English by default."""
    return translation.to_locale(language or translation.get_language() or "en")


def format_money(amount: int | None, currency: str, language: str | None = None) -> str:
    """Minor units as a reader in `language` (the active one by default) writes money."""
    if amount is None or amount == "":
        return ""
    currency = (currency or "").upper()
    major = to_major(amount, currency)
    if not currency:
        return f"{major:,}"
    try:
        text = format_currency(major, currency, locale=babel_locale(language))
    except (UnknownLocaleError, ValueError):
        text = format_currency(major, currency, locale="en")
    # CLDR's currency spacing, which Babel leaves out: a code written in letters is kept apart
    # from the digits by a no-break space (“KWD\xa01.250”, not “KWD1.250”).
    return _LETTER_BESIDE_DIGIT.sub("\xa0", text)


def plain_money(amount: int, currency: str) -> str:
    """Minor units in a fixed form for stored texts: “12.50 EUR”, “1,250 JPY”, “1.250 KWD”."""
    digits = minor_digits(currency)
    return f"{to_major(amount, currency):,.{digits}f} {currency}".strip()
