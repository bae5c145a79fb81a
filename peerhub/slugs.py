"""Slugs in every script (issue 22): a challenge titled “清洁的水” lives at /challenges/清洁的水/
and one titled “مياه نظيفة” at /challenges/مياه-نظيفة/, not at /challenges/challenge-2/.

Django's slugify(allow_unicode=True) keeps letters and digits of every script but drops
combining marks, which Devanagari, Thai or Arabic with vowel signs need to stay readable
(“स्वच्छ” would lose its vowel signs); `unicode_slugify` keeps them. Django's `<slug:>` URL
converter is ASCII only: `<uslug:>` accepts what `unicode_slugify` makes."""

import hashlib
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

_DASHES = re.compile(r"[-\s]+")


def _kept(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM" or char in "-_ "


def unicode_slugify(text: str) -> str:
    """“Clean Water for the Valley” → “clean-water-for-the-valley”; “مياه نظيفة” → “مياه-نظيفة”;
    “清洁的水” → “清洁的水”. Letters, digits and marks of every script, lower-cased, NFKC."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = "".join(char if _kept(char) else " " for char in text)
    return _DASHES.sub("-", text).strip("-_")


def fallback_slug(text: str, prefix: str) -> str:
    """A stable slug for a text with no letter or digit at all (“🚰”, “!!!”)."""
    return f"{prefix}-{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"


def validate_unicode_slug(value: str) -> None:
    """Letters, digits and marks of any script, hyphens and underscores (Django's own
    validate_unicode_slug refuses marks, which “स्वच्छ” needs)."""
    if not value or not all(unicodedata.category(c)[0] in "LNM" or c in "-_" for c in value):
        raise ValidationError(
            _("Use letters, digits, hyphens or underscores only."), code="invalid_slug"
        )


class UnicodeSlugField(models.SlugField):
    """A SlugField whose slugs may be in any script, marks included (see `unicode_slugify`)."""

    # SlugField puts Django's validator in place of these when allow_unicode is passed, and
    # CharField's __init__ already reads them: so allow_unicode is set after.
    default_validators = [validate_unicode_slug]

    def __init__(self, *args, **kwargs):
        kwargs.pop("allow_unicode", None)
        super().__init__(*args, **kwargs)
        self.allow_unicode = True

    def formfield(self, **kwargs):
        return models.CharField.formfield(
            self, **{"form_class": forms.CharField, "validators": [validate_unicode_slug], **kwargs}
        )


class UnicodeSlugConverter:
    """`<uslug:name>`: one path segment without a dot (exports append “.csv” to a slug).
    Whether the slug exists is the view's question: an unknown one is a 404 either way."""

    regex = r"[^/.\s]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UnicodeSlugConverter, "uslug")
