"""A reader's language and time zone (issue 22).

Members choose both on their settings page (or through the API's /api/me/); a member who leaves
the language blank gets what their browser asks for, like a visitor. Visitors get the language
from the language cookie or Accept-Language (Django's LocaleMiddleware) and the time zone from a
small cookie their browser sets itself (site.js reads `Intl.DateTimeFormat`), so the first page a
visitor sees is in UTC and every later one in their own zone.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

# Set by site.js from the browser's own zone; read for visitors only.
TIME_ZONE_COOKIE = "tz"
DEFAULT_TIME_ZONE = "UTC"


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (the tzdata package where the OS has none)."""
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(time_zone_names())]


def is_time_zone(name: str | None) -> bool:
    return bool(name) and name in time_zone_names()


def validate_time_zone(name: str) -> None:
    if not is_time_zone(name):
        raise ValidationError(
            _("“%(zone)s” is not a time zone name such as Europe/Paris or America/Sao_Paulo."),
            code="invalid_time_zone",
            params={"zone": name},
        )


def language_codes() -> frozenset[str]:
    return frozenset(code for code, _name in settings.LANGUAGES)


def language_choices() -> list[tuple[str, str]]:
    """The site's languages, each named in its own language (“Français”, “العربية”), as
    settings.LANGUAGES names them: one choice set wherever a language is chosen."""
    return list(settings.LANGUAGES)


def member_language(user) -> str | None:
    """The language a signed-in member chose, or None (their browser decides)."""
    language = getattr(user, "language", "")
    return language if language in language_codes() else None


def member_locale_activate(user) -> None:
    """Run the rest of this request in the member's chosen language (if any) and time zone:
    for a session, ReaderLocaleMiddleware calls it; for an API token, which DRF reads after
    every middleware, the token's authentication does."""
    language = member_language(user)
    if language:
        translation.activate(language)
    if is_time_zone(getattr(user, "time_zone", "")):
        timezone.activate(user.time_zone)


def reader_time_zone(request) -> str | None:
    """The zone to show this request's times in: the member's, or the visitor's cookie."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        zone = user.time_zone
    else:
        zone = request.COOKIES.get(TIME_ZONE_COOKIE)
    return zone if is_time_zone(zone) else None


def format_moment(value: datetime, fmt: str = "DATETIME_FORMAT") -> str:
    """A moment as text in the active time zone and language, the zone named: “3 March 2027,
    14:00 (America/Sao_Paulo)”. For times that matter (deadlines, orders) in messages; the
    templates' `zoned` filter is the same in a <time> element."""
    local = timezone.localtime(value)
    return f"{formats.date_format(local, fmt)} ({timezone.get_current_timezone_name()})"


class ReaderLocaleMiddleware:
    """After AuthenticationMiddleware: a member's chosen language wins over the cookie and
    Accept-Language (LocaleMiddleware ran before and chose those), and every request runs in
    the reader's time zone, so templates show times there. The zone is reset after each
    request: a thread serves the next reader afresh."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and member_language(user):
            translation.activate(member_language(user))
            request.LANGUAGE_CODE = translation.get_language()
        zone = reader_time_zone(request)
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
