"""Prize money along the lineage in Chromium: a backer funds a challenge's purse through the
sandbox checkout, the organiser publishes the winners, and the winner and the author the
winner built on see their earnings and request payouts. The results page's money tree is
photographed at 1280 and 390 px (tests/artifacts)."""

import pytest
from playwright.sync_api import expect

from challenges import services
from challenges.models import Challenge
from marketplace.models import Payout
from marketplace.services import purses
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution

from .test_fork_journey import log_in

pytestmark = pytest.mark.browser


def test_a_backer_funds_a_purse_and_the_money_reaches_the_winner_and_an_ancestor(
    chromium_available, live_server, browser, artifacts
):
    olga = make_organiser(username="olga", display_name="Olga Organiser")
    challenge = ChallengeFactory(created_by=olga, title="Clean water", slug="clean-water")
    ana = UserFactory(username="ana", display_name="Ana Ancestor", mfa=True)
    cem = UserFactory(username="cem", display_name="Cem Winner", mfa=True)
    root = make_solution(challenge, ana, title="Sand filter")
    winner = make_fork(root, cem)
    purses.purse_configure(challenge=challenge, by=olga, mode="places", places=[100])
    UserFactory(username="bea", display_name="Bea Backer")

    bea = log_in(browser, live_server, "bea")
    bea.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    card = bea.locator(".purse-card")
    expect(card).to_contain_text("PeerHub keeps 5 % as its fee")
    card.get_by_label("Add to the purse").fill("100.00")
    card.get_by_label("Name shown among the backers (optional)").fill("Bea's bakery")
    card.get_by_role("button", name="Contribute").click()
    bea.get_by_role("button", name="Pay (card accepted)").click()
    expect(bea.get_by_text("Payment received.")).to_be_visible()
    expect(bea.locator(".purse-total")).to_contain_text("€95.00")
    expect(bea.get_by_text("Bea's bakery")).to_be_visible()

    services.challenge_transition(challenge=challenge, by=olga, to=Challenge.Status.SELECTING)
    page = log_in(browser, live_server, "olga")
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    page.get_by_role("link", name="Run the selection").click()
    page.get_by_role("button", name="Start the round").click()
    page.get_by_label("Solution (best ranked first)").select_option(
        label=f"{winner.title} — Cem Winner"
    )
    page.get_by_label("Why it belongs on the shortlist").fill("It improved the filter.")
    page.get_by_role("button", name="Shortlist").click()
    page.get_by_label("Why it wins").fill("Cheapest to build.")
    page.get_by_role("button", name="Select as a winner").click()
    page.once("dialog", lambda dialog: dialog.accept())  # permanent: asked first
    page.get_by_role("button", name="Publish the results").click()
    expect(page.get_by_text("The results are published")).to_be_visible()

    page.goto(f"{live_server.url}/marketplace/purses/{challenge.slug}/")
    tree = page.locator("svg.money-tree")
    expect(tree).to_be_visible()
    expect(tree.locator(".money-ancestor")).to_contain_text("€15.83")  # 20 % x 20/24 of 95
    expect(tree.locator(".money-winner")).to_contain_text("€79.17")
    flow = page.locator("section[aria-labelledby=flow-title]")
    flow.screenshot(path=str(artifacts / "purse-money-tree.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    flow.screenshot(path=str(artifacts / "purse-money-tree-390.png"))

    earners = [("cem", "Prize award", "€79.17"), ("ana", "Lineage share", "€15.83")]
    for username, kind, amount in earners:
        member = log_in(browser, live_server, username)
        member.goto(f"{live_server.url}/marketplace/earnings/")
        row = member.get_by_role("row", name=kind)
        expect(row).to_contain_text(amount)
        member.get_by_role("button", name="Request a payout").click()
        member.get_by_role("button", name="Send the payout").click()  # the confirmation page
        expect(member.get_by_text("Payout sent.")).to_be_visible()
    assert sorted(Payout.objects.values_list("amount", flat=True)) == [1583, 7917]
