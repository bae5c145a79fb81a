"""Keyboard only, in Chromium: a member votes, follows, signs the manifesto and forks a solution
with Tab, Enter and Space alone. After each htmx swap the focus stays on the control that was
used (or on what replaced it), never back on <body>, and the page's one polite live region
(#site-status, base.html) says what happened."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from challenges.models import Solution
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_solution,
)

pytestmark = pytest.mark.browser

MOST_TABS = 120  # more than any of these pages has focusable things before the control


def keyboard_member(browser, live_server, user, width=1280):
    """A page signed in as `user` (the session made by Django's test client, no login form)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def tab_to(page, selector: str) -> None:
    """Press Tab until the focused element matches `selector` (the keyboard's way there)."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reached with Tab")


def focused(page) -> str:
    return page.evaluate(
        """() => { const el = document.activeElement;
                   return el === document.body || !el ? 'body'
                     : el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                       ' ' + (el.getAttribute('aria-label') || el.textContent).trim(); }"""
    )


def expect_focus_on(page, selector: str) -> None:
    """The focus is on `selector` (waited for: the swap settles first), not on <body>."""
    expect(page.locator(f"{selector}:focus")).to_have_count(1)
    assert focused(page) != "body"


def test_vote_with_the_keyboard_keeps_the_focus_and_announces(
    chromium_available, live_server, browser
):
    solution = make_solution(title="Rain tank")
    voter = UserFactory(username="kim")
    page = keyboard_member(browser, live_server, voter)
    page.goto(f"{live_server.url}{solution.get_absolute_url()}")
    status = page.locator("#site-status")

    tab_to(page, ".vote-up")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Thank you: your vote counts.")
    expect(page.locator(".vote-up")).to_have_attribute("aria-pressed", "true")
    expect_focus_on(page, f"#vote-widget-{solution.pk} .vote-up")

    # Space on the same (new) button takes the vote back.
    page.keyboard.press("Space")
    expect(status).to_have_text("Your vote is removed.")
    expect(page.locator(".vote-up")).to_have_attribute("aria-pressed", "false")
    expect_focus_on(page, f"#vote-widget-{solution.pk} .vote-up")
    assert page.locator("[role=status], [aria-live]").count() == 1  # no fresh live regions


def test_follow_with_the_keyboard_keeps_the_focus_and_announces(
    chromium_available, live_server, browser
):
    challenge = ChallengeFactory(title="Clean water for Kivu")
    page = keyboard_member(browser, live_server, UserFactory(username="lea"))
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    widget = f"#follow-challenge-{challenge.pk}"

    tab_to(page, f"{widget} button")
    page.keyboard.press("Space")
    expect(page.locator("#site-status")).to_have_text("You follow Clean water for Kivu now.")
    expect(page.locator(f"{widget} button")).to_have_text("Following")
    expect_focus_on(page, f"{widget} button")

    page.keyboard.press("Enter")
    expect(page.locator("#site-status")).to_have_text("You no longer follow Clean water for Kivu.")
    expect(page.locator(f"{widget} button")).to_have_text("Follow")
    expect_focus_on(page, f"{widget} button")


def test_another_swap_settling_meanwhile_does_not_take_the_focus_back(
    chromium_available, live_server, browser
):
    """The bell polls on its own: when its swap lands between the follow widget's swap and its
    settling, the focus still goes back to the follow button (a race CI once met)."""
    challenge = ChallengeFactory(title="Clean water for Kivu")
    page = keyboard_member(browser, live_server, UserFactory(username="lea"))
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    widget = f"#follow-challenge-{challenge.pk}"
    expect(page.locator("#bell")).to_have_count(1)
    # Right after the follow widget is swapped, before it settles, the bell "swaps" too.
    page.evaluate(
        """(widget) => document.addEventListener("htmx:afterSwap", (event) => {
             if (!event.detail.target.matches || !event.detail.target.matches(widget)) return;
             const bell = document.getElementById("bell");
             const detail = {target: bell, elt: bell};
             document.dispatchEvent(new CustomEvent("htmx:beforeSwap", {detail}));
             document.dispatchEvent(new CustomEvent("htmx:afterSettle", {detail}));
           }, {once: true})""",
        widget,
    )

    tab_to(page, f"{widget} button")
    page.keyboard.press("Enter")
    expect(page.locator(f"{widget} button")).to_have_text("Following")
    expect_focus_on(page, f"{widget} button")


def test_sign_the_manifesto_with_the_keyboard_moves_the_focus_to_the_signed_card(
    chromium_available, live_server, browser
):
    ManifestoVersionFactory()
    page = keyboard_member(browser, live_server, UserFactory(username="max"))
    page.goto(f"{live_server.url}/manifesto/")

    tab_to(page, "#manifesto-sign button")
    page.keyboard.press("Enter")
    expect(page.locator("#site-status")).to_have_text("Thank you for signing the manifesto.")
    expect(page.locator("#manifesto-sign")).to_contain_text("You have signed this version")
    # The button is gone: the focus goes to the card that replaced it, not to <body>.
    expect_focus_on(page, "#manifesto-sign")


def test_fork_with_the_keyboard_and_hear_the_result(chromium_available, live_server, browser):
    source = make_solution(title="Slow sand filter")
    forker = UserFactory(username="noa")
    page = keyboard_member(browser, live_server, forker)
    page.goto(f"{live_server.url}{source.get_absolute_url()}")

    tab_to(page, f"a.button[href='/solutions/{source.pk}/fork/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Fork")).to_be_visible()
    tab_to(page, "main form[method=post] button[type=submit]")
    expect(page.locator("main form[method=post] button[type=submit]:focus")).to_have_text("Fork")
    page.keyboard.press("Enter")
    expect(page.locator("#site-status")).to_have_text(
        "Forked. Edit your copy and make it your own."
    )
    fork = Solution.objects.get(author=forker)
    assert page.url.endswith(fork.get_absolute_url())


def test_comment_with_the_keyboard_keeps_the_focus_on_the_form(
    chromium_available, live_server, browser
):
    challenge = ChallengeFactory(title="Flood warnings")
    page = keyboard_member(browser, live_server, UserFactory(username="ola"))
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")

    tab_to(page, "#comment-body")
    page.keyboard.type("Church bells work when the network is down.")
    tab_to(page, ".comment-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#site-status")).to_have_text("Your comment is posted.")
    expect(page.locator("#discussion")).to_contain_text("Church bells work")
    # The new comment brings links before the button; the focus still finds the button.
    expect_focus_on(page, ".comment-form button[type=submit]")
