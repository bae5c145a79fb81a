"""The languages content is written in (issue 22): challenge briefs and their translations, the
manifesto's translations, solutions and comments. The same codes as the pages' languages
(settings.LANGUAGES), so a reader's language picks the translation they see."""

from django.conf import settings
from django.utils import translation


def codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def is_known(code: str | None) -> bool:
    return code in codes()


def name(code: str) -> str:
    """The language's own name, as settings.LANGUAGES writes it ("Español", "العربية"): a reader
    finds their language by it whatever the page's language."""
    return dict(settings.LANGUAGES).get(code, code)


def is_rtl(code: str) -> bool:
    try:
        return bool(translation.get_language_info(code)["bidi"])
    except KeyError:
        return False


def reader_language() -> str:
    """The active language as one of settings.LANGUAGES (LocaleMiddleware activated it)."""
    active = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    known = codes()
    if active in known:
        return active
    base = active.split("-")[0]
    for code in known:
        if code.split("-")[0] == base:
            return code
    return settings.LANGUAGE_CODE
