"""Connecting people, in Chromium: B forks A's solution; A sees the bell count rise, opens the
notification and lands on the fork, then finds the fork by a word B wrote in it."""

import re

import pytest
from playwright.sync_api import expect

from challenges.models import Solution
from tests.e2e.test_fork_journey import log_in
from tests.factories import ChallengeFactory, UserFactory, make_solution

pytestmark = pytest.mark.browser


def test_fork_notifies_the_author_who_follows_the_bell_and_finds_the_fork(
    chromium_available, live_server, browser, artifacts
):
    ana = UserFactory(username="ana", display_name="Ana Author")
    UserFactory(username="ben", display_name="Ben Builder")
    challenge = ChallengeFactory(title="Drinking water from the sea")
    original = make_solution(
        challenge, ana, title="Solar still", body="A black tray under glass.\nCondense and drip."
    )

    page_a = log_in(browser, live_server, "ana")
    bell = page_a.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications")
    expect(bell.locator(".badge")).to_have_count(0)

    # B forks A's solution and writes a new word into the fork.
    page_b = log_in(browser, live_server, "ben")
    page_b.goto(live_server.url + original.get_absolute_url())
    page_b.get_by_role("link", name="Fork and remix").click()
    page_b.get_by_label("Title").fill("Solar still with a wick")
    page_b.get_by_role("button", name="Fork").click()
    expect(page_b.get_by_text("Forked. Edit your copy")).to_be_visible()
    fork_url = page_b.url
    page_b.get_by_role("link", name="Edit", exact=True).click()
    page_b.get_by_label("Body").fill(
        "A black tray under glass.\nA capillary wick feeds the tray.\nCondense and drip."
    )
    page_b.get_by_label("What changed").fill("A wick keeps the tray wet")
    page_b.get_by_role("button", name="Save revision").click()
    expect(page_b.get_by_role("heading", name="What this fork changed")).to_be_visible()

    # A's bell count rises.
    page_a.reload()
    bell = page_a.locator("#bell")
    expect(bell.locator(".badge")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    page_a.screenshot(path=str(artifacts / "bell.png"))

    # A opens the notification and lands on the fork.
    bell.click()
    expect(page_a.get_by_role("heading", name="Notifications")).to_be_visible()
    page_a.get_by_role("link", name=re.compile("Ben Builder forked your solution")).click()
    expect(page_a.get_by_role("heading", name="Solar still with a wick")).to_be_visible()
    assert page_a.url == fork_url
    expect(page_a.get_by_role("navigation", name="Account").locator("#bell .badge")).to_have_count(
        0
    )

    # A searches for a word from B's fork and finds it.
    page_a.get_by_role("search").get_by_label("Search PeerHub").fill("capillary")
    page_a.get_by_role("search").get_by_label("Search PeerHub").press("Enter")
    results = page_a.get_by_role("list", name="Solutions")
    expect(results.get_by_role("link", name="Solar still with a wick")).to_be_visible()
    expect(results.locator("mark").first).to_have_text(re.compile("capillary", re.I))
    expect(results.get_by_role("link", name="Solar still", exact=True)).to_have_count(0)
    page_a.screenshot(path=str(artifacts / "search.png"), full_page=True)
    results.get_by_role("link", name="Solar still with a wick").click()
    assert page_a.url == fork_url
    assert Solution.objects.get(title="Solar still with a wick").parent == original
