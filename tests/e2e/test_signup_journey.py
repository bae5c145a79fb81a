"""A newcomer's first journey, in Chromium: sign up, verify by e-mail, sign the manifesto."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ManifestoVersionFactory, ValueFactory

pytestmark = pytest.mark.browser


def test_newcomer_signs_up_verifies_and_signs_the_manifesto(
    chromium_available, live_server, page, mailoutbox, artifacts
):
    ManifestoVersionFactory(number=1, title="Build on each other")
    ValueFactory(name="Openness")
    page.set_default_timeout(15_000)

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Join PeerHub").first.click()
    page.get_by_label("Email").fill("grace@example.org")
    page.get_by_label("Username").fill("grace")
    page.locator("input[name=password1]").fill("a long and unusual passphrase")
    page.locator("input[name=password2]").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manifesto").click()
    expect(page.get_by_role("heading", name="Build on each other")).to_be_visible()
    page.get_by_role("button", name="Sign the manifesto").click()

    # htmx swaps the sign card and the signatory list in place.
    expect(page.locator("#manifesto-sign")).to_contain_text("You have signed this version")
    expect(page.locator("#signatory-list")).to_contain_text("grace")
    page.screenshot(path=str(artifacts / "manifesto-signed.png"), full_page=True)

    page.reload()
    expect(page.locator("#signatory-list")).to_contain_text("grace")
    expect(page.locator("#manifesto-sign")).to_contain_text("You have signed this version")
