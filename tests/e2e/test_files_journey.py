"""Artefacts in Chromium: a contributor drags a photo into a new solution and sees it in the
text; another forks it, replaces the photo and compares the two side by side."""

import base64

import pytest
from playwright.sync_api import expect

from challenges.models import Blob, Solution
from tests.challenges.test_files import png
from tests.e2e.test_fork_journey import log_in
from tests.factories import ChallengeFactory, UserFactory, make_organiser

pytestmark = pytest.mark.browser

DROP = """([zoneSelector, name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "image/png"}));
  const zone = document.querySelector(zoneSelector);
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
}"""


def _loaded(page, selector):
    """The image really decoded (not a broken-image icon)."""
    return page.locator(selector).first.evaluate("img => img.complete && img.naturalWidth > 0")


def test_drop_an_image_see_it_inline_fork_replace_and_compare(
    chromium_available, live_server, browser, artifacts
):
    challenge = ChallengeFactory(created_by=make_organiser(), title="Rain gauges")
    UserFactory(username="ana", display_name="Ana Author")
    UserFactory(username="ben", display_name="Ben Builder")

    ana = log_in(browser, live_server, "ana")
    ana.goto(f"{live_server.url}/challenges/{challenge.slug}/solutions/new/")
    ana.get_by_label("Title").fill("Tipping-bucket gauge")
    ana.get_by_label("Body").fill("The gauge:\n\n![The gauge in section](files/gauge.png)")
    expect(ana.locator(".file-drop")).to_be_visible()  # the enhancement is on
    photo = base64.b64encode(png("steelblue", size=(800, 500))).decode()
    ana.evaluate(DROP, [".file-drop", "gauge.png", photo])
    expect(ana.locator(".file-drop-list")).to_contain_text("gauge.png")
    ana.get_by_role("button", name="Save").click()
    expect(ana.get_by_role("heading", name="Tipping-bucket gauge")).to_be_visible()
    inline = ana.locator(".solution-body img[alt='The gauge in section']")
    expect(inline).to_be_visible()
    assert _loaded(ana, ".solution-body img[alt='The gauge in section']")
    expect(ana.get_by_role("link", name="gauge.png")).to_be_visible()
    ana.screenshot(path=artifacts / "files-solution.png", full_page=True)
    source = Solution.objects.get(title="Tipping-bucket gauge")

    # Ben forks it: the fork shows the same image and stores no new bytes.
    ben = log_in(browser, live_server, "ben")
    ben.goto(f"{live_server.url}{source.get_absolute_url()}")
    ben.get_by_role("link", name="Fork and remix").click()
    ben.get_by_role("button", name="Fork").click()
    expect(ben.get_by_text("Forked.")).to_be_visible()
    assert Blob.objects.count() == 1
    expect(ben.locator(".solution-body img[alt='The gauge in section']")).to_be_visible()

    # ... replaces the photo with the picker (no drag this time) and saves a revision.
    ben.get_by_role("link", name="Edit").click()
    ben.locator("input[type=file]").set_input_files(
        {"name": "gauge.png", "mimeType": "image/png", "buffer": png("darkorange", (800, 500))}
    )
    ben.get_by_label("What changed").fill("A photo of the built gauge")
    ben.get_by_role("button", name="Save revision").click()
    expect(ben.get_by_text("Saved as a new revision.")).to_be_visible()
    assert Blob.objects.count() == 2

    # The fork page compares the two images side by side.
    compare = ben.locator(".files-diff .file-change-changed")
    expect(compare).to_contain_text("gauge.png")
    expect(compare.get_by_role("img", name="gauge.png before")).to_be_visible()
    expect(compare.get_by_role("img", name="gauge.png after")).to_be_visible()
    expect(ben.get_by_text("Unchanged copy.")).to_have_count(0)
    ben.screenshot(path=artifacts / "files-fork-compare.png", full_page=True)
    ben.set_viewport_size({"width": 390, "height": 844})
    ben.screenshot(path=artifacts / "files-fork-compare-390.png", full_page=True)
