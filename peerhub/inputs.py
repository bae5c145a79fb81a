"""What a request may carry, checked once for the HTML forms and the API alike
(peerhub/api/fields.py holds the serializer twins of the form fields here).

- Invisible characters: bidi overrides and isolates (U+202A to U+202E, U+2066 to U+2069) make a
  name read differently from what it is (U+202E before "txt.exe" shows "exe.txt"), and
  zero-width characters (U+200B to U+200D, U+2060, U+FEFF) make two names that look the same
  differ. Display names and titles have them stripped (`strip_invisible`). Usernames refuse
  them: Django's username validator, which allauth's sign-up and the admin apply, allows
  letters, digits and @.+-_ only.
- NUL characters: PostgreSQL cannot store them, and its driver refuses them in a query with an
  error that would be a 500. peerhub.middleware refuses them in paths, query strings and form
  fields, and peerhub.api.parsers in API bodies.
- Datetimes with a UTC offset no place on Earth uses (PostgreSQL refuses past ±15:59) and
  integers past 64 bits are a 400, not a database error."""

import re
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import limits

INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
NUL = "\x00"


def strip_invisible(value: str) -> str:
    """The text without bidi controls and zero-width characters."""
    return INVISIBLE.sub("", value)


def has_nul(value: str) -> bool:
    return NUL in value


def parse_id(raw: str) -> int | None:
    """An id typed in ASCII digits that fits a 64-bit column, else None ("²".isdigit() is true
    and int("²") fails; int() of 5,000 digits fails too)."""
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(limits.BIGINT_MAX)):
        value = int(raw)
        if value <= limits.BIGINT_MAX:
            return value
    return None


def check_utc_offset(value: datetime) -> datetime:
    """An aware datetime whose offset is one in use, converted to UTC; else ValidationError."""
    offset = value.utcoffset()
    if offset is not None:
        minutes = offset.total_seconds() / 60
        if not limits.UTC_OFFSET_MIN_MINUTES <= minutes <= limits.UTC_OFFSET_MAX_MINUTES:
            raise ValidationError(
                _("Use a UTC offset between -12:00 and +14:00."), code="invalid_utc_offset"
            )
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+14:00 is before the year 1 in UTC
            raise ValidationError(_("That date is out of range."), code="overflow") from None
    return value


class PlainCharField(forms.CharField):
    """A one-line text (a display name, a title) with invisible characters stripped before it
    is checked, so "\u200b" alone is as empty as "" is."""

    def to_python(self, value):
        value = super().to_python(value)
        if value:
            value = strip_invisible(value)
            if self.strip:
                value = value.strip()
        return value


class DateTimeField(forms.DateTimeField):
    """Django's DateTimeField, refusing UTC offsets no place uses (`+16:00`)."""

    def to_python(self, value):
        result = super().to_python(value)
        return check_utc_offset(result) if result is not None else None


class IntegerField(forms.IntegerField):
    """An integer that fits a 64-bit column, unless tighter bounds are given."""

    def __init__(self, *, max_value=None, min_value=None, **kwargs):
        super().__init__(
            max_value=limits.BIGINT_MAX if max_value is None else max_value,
            min_value=limits.BIGINT_MIN if min_value is None else min_value,
            **kwargs,
        )
