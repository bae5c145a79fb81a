"""Browser journeys end quietly: the page's last requests are answered before the test's
teardown, so no request of one test is still running on the live server (which, on in-memory
SQLite, shares the test database's one connection) when the next test begins."""

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError


@pytest.fixture(autouse=True)
def _page_settles(request):
    page = request.getfixturevalue("page") if "page" in request.fixturenames else None
    yield
    if page is not None and not page.is_closed():
        # A page that never settles must not fail the teardown; the test has its verdict.
        with contextlib.suppress(PlaywrightError):
            page.wait_for_load_state("networkidle", timeout=10_000)
