"""Writing like on GitHub, in Chromium: a member writes a comment with the toolbar and a
shortcut, checks it in the Preview tab (rendered by the server), mentions a member picked from
the @ suggestions, sends it; the mentioned member sees the notification and the link to their
profile. A draft left behind by mistake comes back."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_fork_journey import log_in
from tests.factories import ChallengeFactory, UserFactory

pytestmark = pytest.mark.browser


def test_write_preview_mention_and_send(chromium_available, live_server, browser, artifacts):
    UserFactory(username="ana", display_name="Ana Author")
    UserFactory(username="benedikt", display_name="Ben Builder")
    UserFactory(username="bertha", display_name="Bertha")
    challenge = ChallengeFactory(title="Drinking water from the sea")

    page = log_in(browser, live_server, "ana")
    page.goto(live_server.url + challenge.get_absolute_url())
    discussion = page.locator("#discussion")
    editor = discussion.get_by_label("Add to the discussion")

    # The toolbar wraps the selection; Ctrl+I is the shortcut for italic.
    editor.fill("Salt is the hard part")
    editor.press("Control+a")
    discussion.get_by_role("toolbar", name="Formatting").get_by_role("button", name="Bold").click()
    expect(editor).to_have_value("**Salt is the hard part**")
    editor.press("End")
    editor.type(". Try ")
    editor.press("Control+i")
    expect(editor).to_have_value("**Salt is the hard part**. Try _italic text_")
    editor.type("a wick")
    editor.press("End")
    editor.type(" <script>alert(1)</script>")

    # The Preview tab shows what the server renders, sanitised.
    preview_tab = discussion.get_by_role("tab", name="Preview")
    preview_tab.click()
    expect(preview_tab).to_have_attribute("aria-selected", "true")
    panel = discussion.get_by_role("tabpanel", name="Preview")
    expect(panel.locator("strong")).to_have_text("Salt is the hard part")
    expect(panel.locator("em")).to_have_text("a wick")
    expect(panel).to_contain_text("<script>alert(1)</script>")  # shown as text, not run
    expect(panel.locator("script")).to_have_count(0)
    expect(editor).to_be_hidden()
    page.screenshot(path=str(artifacts / "writing-preview.png"))

    # Back to Write with the keyboard (arrow keys move between tabs), then mention Ben.
    preview_tab.press("ArrowLeft")
    expect(discussion.get_by_role("tab", name="Write")).to_be_focused()
    editor.press("Control+End")
    editor.type(" Thanks @ben")
    suggestions = discussion.get_by_role("listbox", name="Members to mention")
    expect(suggestions.get_by_role("option")).to_have_text(["@benedikt Ben Builder"])
    page.screenshot(path=str(artifacts / "writing-mention.png"))
    editor.press("Enter")
    expect(suggestions).to_be_hidden()
    expect(editor).to_have_value(re.compile(r"Thanks @benedikt $"))

    discussion.get_by_role("button", name="Comment", exact=True).click()
    comment = page.locator(".comment-body").first
    expect(comment.get_by_role("link", name="@benedikt")).to_have_attribute("href", "/u/benedikt/")
    # Sent: the draft is gone, and the fresh form is empty.
    expect(page.locator("#discussion").get_by_label("Add to the discussion")).to_have_value("")
    assert (
        page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('peerhub:draft'))") == []
    )

    # Ben sees the notification and follows it to the comment.
    ben = log_in(browser, live_server, "benedikt")
    bell = ben.locator("#bell")
    expect(bell.locator(".badge")).to_have_text("1")
    bell.click()
    ben.get_by_role(
        "link", name=re.compile("Ana Author mentioned you in a comment on “Drinking water")
    ).click()
    expect(ben.get_by_role("heading", name="Drinking water from the sea")).to_be_visible()


def test_a_draft_left_by_mistake_comes_back(chromium_available, live_server, browser):
    UserFactory(username="ana")
    challenge = ChallengeFactory()
    page = log_in(browser, live_server, "ana")
    page.goto(live_server.url + challenge.get_absolute_url())
    editor = page.locator("#discussion").get_by_label("Add to the discussion")
    editor.fill("Half a thought about pumps")
    # Kept after a short pause in typing.
    page.wait_for_function(
        "() => Object.keys(localStorage).some(k => k.startsWith('peerhub:draft:'))"
    )

    page.goto(live_server.url + "/")
    page.goto(live_server.url + challenge.get_absolute_url())
    editor = page.locator("#discussion").get_by_label("Add to the discussion")
    expect(editor).to_have_value("Half a thought about pumps")
    expect(page.get_by_text("Your unsent draft was restored.")).to_be_visible()

    page.get_by_role("button", name="Discard draft").click()
    expect(editor).to_have_value("")
    expect(page.get_by_text("Your unsent draft was restored.")).to_be_hidden()
    page.reload()
    expect(page.locator("#discussion").get_by_label("Add to the discussion")).to_have_value("")
