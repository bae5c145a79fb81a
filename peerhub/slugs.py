"""Slugs in every script (issue 22): a challenge titled “清洁的水” lives at /challenges/清洁的水/
and one titled “مياه نظيفة” at /challenges/مياه-نظيفة/, not at /challenges/challenge-2/.

Django's slugify(allow_unicode=True) keeps letters and digits of every script but drops
combining marks, which Devanagari, Thai or Arabic with vowel signs need to stay readable
(“स्वच्छ” would lose its vowel signs); `unicode_slugify` keeps them. Django's `<slug:>` URL
converter is ASCII only: `<uslug:>` accepts what `unicode_slugify` makes."""

import hashlib
import re
import unicodedata

from django.urls import register_converter

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


class UnicodeSlugConverter:
    """`<uslug:name>`: one path segment without a dot (exports append “.csv” to a slug).
    Whether the slug exists is the view's question: an unknown one is a 404 either way."""

    regex = r"[^/.\s]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UnicodeSlugConverter, "uslug")
