from django import template

from marketplace.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """Minor units as money in the reader's language (marketplace.money): `1250|money:"EUR"`
    is “€12.50” in English and “12,50 €” in French; `1250|money:"JPY"` is “¥1,250”."""
    return format_money(amount, currency)
