from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """Minor units as an amount: `1250|money:"EUR"` → "12.50 EUR" (two-decimal currencies)."""
    if amount is None or amount == "":
        return ""
    value = (Decimal(int(amount)) / 100).quantize(Decimal("0.01"))
    text = f"{value:,.2f}"
    return f"{text} {currency}".strip()
