"""Browser journeys end quietly, so that nothing of one test still talks to the live server
(which, on in-memory SQLite, shares the test database's one connection) while the next runs:

- the page's last requests are answered before the test's teardown;
- every browser context the test opened is closed after it. A context a test made itself
  (`browser.new_context()`) would otherwise live on for the whole session, its pages asking
  the live server for the notification bell every 30 seconds (htmx) in the middle of later
  tests: seen as "database table is locked: django_session"."""

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError


@pytest.fixture(autouse=True)
def _browser_quiet(request):
    uses_browser = {"page", "browser", "context"} & set(request.fixturenames)
    browser = request.getfixturevalue("browser") if uses_browser else None
    page = request.getfixturevalue("page") if "page" in request.fixturenames else None
    yield
    if page is not None and not page.is_closed():
        # A page that never settles must not fail the teardown; the test has its verdict.
        with contextlib.suppress(PlaywrightError):
            page.wait_for_load_state("networkidle", timeout=10_000)
    if browser is not None:
        for context in list(browser.contexts):
            with contextlib.suppress(PlaywrightError):
                context.close()
