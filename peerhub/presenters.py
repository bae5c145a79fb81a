"""How numbers are shown to people, in one place for every page and API display field."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def reputation_int(value) -> int | None:
    """Reputation as a whole number: the ledger keeps its precision (lineage credit makes
    fractions), people see points. Half away from zero, so 0.5 is 1 and -0.5 is -1."""
    if value is None or value == "":
        return None
    try:
        return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        return None


def reputation_whole(value) -> str:
    """Reputation for a page: "12,480", "-3"; what is not a number is shown as it is."""
    number = reputation_int(value)
    if number is None:
        return "" if value is None else str(value)
    return f"{number:,}"


def reputation_signed(value) -> str:
    """A ledger line's amount: "+3", "-2"; a fraction that rounds to nothing is "+<1" or "-<1"
    rather than a puzzling "+0"."""
    number = reputation_int(value)
    if number is None:
        return "" if value is None else str(value)
    if number == 0 and Decimal(str(value)) != 0:
        return "+<1" if Decimal(str(value)) > 0 else "-<1"
    return f"{number:+,}" if number else "0"
