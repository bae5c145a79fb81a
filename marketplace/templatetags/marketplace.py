from django import template

from marketplace.money import format_money, from_minor, input_step

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """Minor units as money in the reader's language (marketplace.money): `1250|money:"EUR"`
    is “€12.50” in English and “12,50 €” in French; `1250|money:"JPY"` is “¥1,250”."""
    return format_money(amount, currency)


@register.filter
def money_step(currency: str) -> str:
    """The step of a number input for amounts in `currency`: “0.01” EUR, “1” JPY, “0.001” KWD."""
    return input_step(currency)


@register.filter
def major(amount, currency: str = "") -> str:
    """Minor units as the plain number a money input takes: `2500|major:"EUR"` is “25.00”,
    `2500|major:"JPY"` “2500”."""
    return "" if amount in (None, "") else f"{from_minor(amount, currency):f}"
