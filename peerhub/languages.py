"""The languages content is written in (issue 22): challenge briefs and their translations, the
manifesto's translations, solutions and comments. The same codes as the pages' languages
(settings.LANGUAGES), so a reader's language picks the translation they see."""

import os
import re
from functools import lru_cache

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


# PostgreSQL's text search configuration of each language (challenges.search; the vectors'
# triggers hold the same table, migration challenges 0017). Unlisted languages use `simple`.
TS_CONFIGS = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "pt-br": "portuguese",
    "ar": "arabic",
}


def ts_config(code: str) -> str:
    return TS_CONFIGS.get(code, "simple")


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


# --- Guessing a text's language -----------------------------------------------------------------

# langdetect's profile of each language, where its code differs from ours.
_PROFILE_OF = {"pt-br": "pt"}
# Below this many letters, or this sure, a guess is worse than the writer's own language.
MIN_LETTERS = 12
MIN_PROBABILITY = 0.80
_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


@lru_cache(maxsize=1)
def _factory():
    """langdetect with only the shipped languages' profiles loaded: it then only ever answers
    one of ours, and a Spanish text is never taken for Galician or Catalan."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    profiles = []
    for code in codes():
        name = _PROFILE_OF.get(code, code)
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as profile:
            profiles.append(profile.read())
    factory.load_json_profile(profiles)
    factory.set_seed(0)  # the same text, the same answer
    return factory


def detect(text: str, *, fallback: str | None = None) -> str:
    """The language `text` (Markdown) is most likely written in, among settings.LANGUAGES; when
    the text is too short or the guess unsure, `fallback` (default: the active language)."""
    from langdetect.lang_detect_exception import LangDetectException

    fallback = fallback if is_known(fallback) else reader_language()
    text = _LINK_TARGET.sub("]", _CODE.sub(" ", text or ""))
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return fallback
    detector = _factory().create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return fallback
    if best.prob < MIN_PROBABILITY:
        return fallback
    by_profile = {_PROFILE_OF.get(code, code): code for code in codes()}
    return by_profile.get(best.lang, fallback)


def content_language(*, given: str | None, text: str, keep: str | None = None) -> str:
    """The language to store with a text: the one its author gave, else `keep` (what an edit
    had), else the guess from the text. An unknown code is the author's mistake (a 400)."""
    from .exceptions import DomainError

    if given:
        if not is_known(given):
            raise DomainError(
                f"“{given}” is not one of PeerHub's languages ({', '.join(codes())}).",
                code="unknown_language",
            )
        return given
    return keep or detect(text)
