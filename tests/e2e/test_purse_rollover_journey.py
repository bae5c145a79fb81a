"""A purse that rolls over, in Chromium at phone width: the organiser names the follow-up in
the purse settings, a backer reads "If no winner is published, this purse rolls over to …"
before paying, and once the challenge is archived without winners the follow-up's purse page
lists the rolled-over money among its backers. Photographed at 360 px (tests/artifacts)."""

import pytest
from playwright.sync_api import expect

from challenges import services
from challenges.models import Challenge
from marketplace.services import purses
from tests.factories import ChallengeFactory, UserFactory, make_organiser
from tests.helpers import after_commit
from tests.marketplace.purse_helpers import contribute

from .test_fork_journey import log_in

pytestmark = pytest.mark.browser


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_organiser_names_a_follow_up_and_the_money_rolls_over(
    chromium_available, live_server, browser, artifacts
):
    olga = make_organiser(username="olga", display_name="Olga Organiser")
    challenge = ChallengeFactory(created_by=olga, title="Clean water 2026", slug="water-2026")
    ChallengeFactory(created_by=olga, title="Clean water 2027", slug="water-2027")
    purses.purse_configure(challenge=challenge, by=olga, mode="places", places=[100])

    page = log_in(browser, live_server, "olga")
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{live_server.url}/marketplace/purses/{challenge.slug}/")
    page.get_by_label("If no winner is published").select_option(
        label="Roll over to Clean water 2027"
    )
    page.get_by_role("button", name="Save the prize rules").click()
    expect(page.get_by_text("Prize rules saved")).to_be_visible()
    rollover = page.locator("p.purse-rollover")
    expect(rollover).to_contain_text("If no winner is published, this purse rolls over to")
    expect(rollover.get_by_role("link", name="Clean water 2027")).to_be_visible()
    assert fits(page)
    page.screenshot(path=str(artifacts / "purse-rollover-settings-360.png"), full_page=True)

    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    expect(page.locator(".purse-card")).to_contain_text(
        "If no winner is published, this purse rolls over to Clean water 2027"
    )
    assert fits(page)

    contribute(challenge, UserFactory(), 10000)
    with after_commit():
        for to in (Challenge.Status.SELECTING, Challenge.Status.CLOSED, Challenge.Status.ARCHIVED):
            services.challenge_transition(challenge=challenge, by=olga, to=to)
    page.goto(f"{live_server.url}/marketplace/purses/water-2027/")
    backers = page.locator(".backers")
    expect(backers).to_contain_text("Rolled over from Clean water 2026")
    expect(backers).to_contain_text("€95.00")
    assert fits(page)
    page.screenshot(path=str(artifacts / "purse-rollover-follow-up-360.png"), full_page=True)
