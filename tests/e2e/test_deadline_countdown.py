"""A challenge's deadline counts down in the reader's language (issue 22): the page's own text
is reworded each minute by site.js, so a page kept open (or served from the page cache) stays
true. The browser's clock is driven, not waited for."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from challenges.models import Challenge
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.browser


def test_the_deadline_counts_down_in_the_readers_language(chromium_available, live_server, browser):
    challenge = ChallengeFactory(
        status=Challenge.Status.OPEN,
        closes_at=timezone.now() + timedelta(minutes=150, seconds=30),
    )
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.clock.install()
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    countdown = page.locator(".deadline-countdown")
    expect(countdown).to_have_text("(dentro de 2 horas)")
    page.clock.fast_forward("01:00:00")
    expect(countdown).to_have_text("(dentro de 1 hora)")
    page.clock.fast_forward("01:00:00")
    expect(countdown).to_have_text(re.compile(r"^\(dentro de (29|30) minutos\)$"))
    page.clock.fast_forward("01:00:00")
    expect(countdown).to_have_text(re.compile(r"^\(hace (29|30) minutos\)$"))
    context.close()
