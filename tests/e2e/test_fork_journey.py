"""The heart of peer production, in Chromium: an organiser frames and opens a challenge,
contributor A answers it, contributor B forks and improves the answer, sees the diff and the
lineage picture, offers the change upstream, and A accepts it."""

import pytest
from playwright.sync_api import expect

from challenges.models import Solution
from tests.factories import PASSWORD, UserFactory, ValueFactory, make_organiser, totp_code

pytestmark = pytest.mark.browser


def log_in(browser, live_server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    # Staff and sellers have an authenticator app. A code typed at the end of its 30 seconds
    # can reach the server in the next ones, where it is refused (no tolerance): once refused,
    # the code of the new period is current.
    for _attempt in range(2):
        if "/accounts/2fa/authenticate/" not in page.url:
            break
        page.locator("input[name=code]").fill(totp_code())
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def test_frame_answer_fork_and_merge_upstream(chromium_available, live_server, browser, artifacts):
    make_organiser(username="olga", display_name="Olga Organiser")
    UserFactory(username="ana", display_name="Ana Author")
    UserFactory(username="ben", display_name="Ben Builder")
    ValueFactory(name="Building on each other", slug="building-on-each-other")

    # The organiser frames the challenge and opens it.
    olga = log_in(browser, live_server, "olga")
    olga.get_by_role("navigation", name="Main").get_by_role("link", name="Challenges").click()
    olga.get_by_role("link", name="Frame a challenge").click()
    olga.get_by_label("Title").fill("Clean water for Kivu")
    olga.get_by_label("Summary").fill("Safe drinking water for 500 people, maintained locally.")
    olga.get_by_label("Problem").fill("Wells are **contaminated** after every rainy season.")
    olga.get_by_label("Why it matters").fill("Children miss school every wet season.")
    olga.get_by_label("Success criteria").fill("Safe: meets WHO guidelines\nCheap: under €2,000")
    olga.get_by_label("Building on each other").check()
    olga.get_by_label("Tags").fill("water, low-tech")
    olga.get_by_role("button", name="Save as draft").click()
    expect(olga.get_by_text("Draft", exact=True).first).to_be_visible()
    olga.once("dialog", lambda dialog: dialog.accept())  # final: asked first
    olga.get_by_role("button", name="Open for solutions").click()
    expect(olga.get_by_text("The challenge is now open.")).to_be_visible()
    challenge_url = olga.url

    # Contributor A answers it.
    ana = log_in(browser, live_server, "ana")
    ana.goto(challenge_url)
    ana.get_by_role("link", name="Post a solution").click()
    ana.get_by_label("Title").fill("Slow sand filter")
    ana.get_by_label("Body").fill("Layer gravel and sand.\nLet the biofilm grow.\nCost: €600.")
    ana.get_by_role("button", name="Save").click()
    expect(ana.get_by_role("heading", name="Slow sand filter")).to_be_visible()
    original_url = ana.url

    # Contributor B forks it, edits the fork and sees what changed and where it sits.
    ben = log_in(browser, live_server, "ben")
    ben.goto(original_url)
    ben.get_by_role("link", name="Fork and remix").click()
    ben.get_by_label("Title").fill("Slow sand filter with a water committee")
    ben.get_by_role("button", name="Fork").click()
    expect(ben.get_by_text("Forked. Edit your copy")).to_be_visible()
    ben.get_by_role("link", name="Edit", exact=True).click()
    ben.get_by_label("Body").fill(
        "Layer gravel and sand.\nLet the biofilm grow.\nCost: €450, shared by a committee."
    )
    ben.get_by_label("What changed").fill("A committee shares the cost")
    ben.get_by_role("button", name="Save revision").click()
    expect(ben.get_by_role("heading", name="What this fork changed")).to_be_visible()
    expect(ben.locator("table.diff ins").first).to_contain_text("450")
    tree = ben.locator(".lineage-section svg.lineage-svg")
    expect(tree.locator("a.lineage-node")).to_have_count(2)
    expect(tree.locator("a.lineage-node.current")).to_contain_text("Ben Builder")
    tree.screenshot(path=str(artifacts / "lineage-picture.png"))

    ben.get_by_role("link", name="Offer changes upstream").click()
    ben.get_by_label("Message").fill("A committee makes maintenance sustainable.")
    ben.get_by_role("button", name="Offer the change").click()
    expect(ben.get_by_text("Your change was offered")).to_be_visible()

    # A sees the proposal on their solution and accepts it.
    ana.goto(original_url)
    ana.get_by_role("link", name="From Ben Builder").click()
    expect(ana.locator("table.diff ins").first).to_contain_text("450")
    ana.once("dialog", lambda dialog: dialog.accept())  # final: asked first
    ana.get_by_role("button", name="Accept as a new revision").click()
    expect(ana.get_by_text("Accepted: your solution has a new revision")).to_be_visible()
    expect(ana.locator("article.solution-body")).to_contain_text("shared by a committee")
    ana.get_by_role("link", name="History (2)").click()
    expect(ana.get_by_text("Accepted changes from the fork")).to_be_visible()

    original = Solution.objects.get(title="Slow sand filter")
    assert original.current_revision.credited_solution.author.username == "ben"

    olga.goto(challenge_url)
    expect(olga.get_by_role("heading", name="How the ideas evolved")).to_be_visible()
    olga.screenshot(path=str(artifacts / "challenge-page.png"), full_page=True)
