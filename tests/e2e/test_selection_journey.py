"""The selective environment in Chromium: an organiser runs a selection round (shortlist with a
reason, select a winner, publish), the winner's "why this rank" shows the selection, and the
evolution view draws the generations and the lineage (a screenshot lands in tests/artifacts)."""

import pytest
from playwright.sync_api import expect

from challenges import services
from challenges.models import Challenge
from reputation.models import Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution

from .test_fork_journey import log_in

pytestmark = pytest.mark.browser


def test_an_organiser_selects_a_winner_and_the_rank_explains_it(
    chromium_available, live_server, browser, artifacts
):
    olga = make_organiser(username="olga", display_name="Olga Organiser")
    challenge = ChallengeFactory(created_by=olga, title="Quiet streets", slug="quiet-streets")
    filter_ = make_solution(challenge, UserFactory(display_name="Ana"), title="Planted barriers")
    other = make_solution(challenge, UserFactory(display_name="Ben"), title="Speed humps")
    fork = make_fork(filter_, UserFactory(display_name="Cem"))
    make_fork(fork, UserFactory(display_name="Dee"))
    for voter in UserFactory.create_batch(6):
        Vote.objects.create(solution=other, voter=voter, value=1)
    services.challenge_transition(challenge=challenge, by=olga, to=Challenge.Status.SELECTING)

    page = log_in(browser, live_server, "olga")
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    page.get_by_role("link", name="Run the selection").click()
    page.get_by_role("button", name="Start the round").click()
    expect(page.get_by_text("A new selection round is in preparation.")).to_be_visible()

    page.get_by_label("Solution (best ranked first)").select_option(label="Planted barriers — Ana")
    page.get_by_label("Why it belongs on the shortlist").fill("Residents built on it twice.")
    page.get_by_role("button", name="Shortlist").click()
    expect(page.get_by_text("“Planted barriers” is on the shortlist.")).to_be_visible()
    page.get_by_label("Why it wins").fill("Cheap, green and already improved by others.")
    page.get_by_role("button", name="Select as a winner").click()
    page.once("dialog", lambda dialog: dialog.accept())  # final: asked first
    page.get_by_role("button", name="Publish the results").click()
    expect(page.get_by_text("The results are published")).to_be_visible()
    expect(page.get_by_text("Cheap, green and already improved by others.")).to_be_visible()

    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    row = page.locator(".solution-row", has_text="Planted barriers").first
    row.get_by_text("why this rank?").click()
    expect(
        row.get_by_text("Selected as a winner by the organisers in selection round 1.")
    ).to_be_visible()
    expect(row.get_by_role("row", name="Organiser selection")).to_contain_text("15.00")

    page.get_by_role("link", name="Evolution view").click()
    expect(page.get_by_role("heading", name="Fitness per generation")).to_be_visible()
    expect(page.locator(".evolution-chart svg")).to_be_visible()
    expect(page.locator(".lineage-node.fittest").first).to_be_visible()
    expect(page.get_by_text("Round 1")).to_be_visible()
    page.screenshot(path=str(artifacts / "evolution-view.png"), full_page=True)
