"""A member secures their account, in Chromium: an API token made, copied once and revoked; an
authenticator app set up. Screenshots of both pages on a desktop and a phone."""

import pytest
from playwright.sync_api import expect

from peerhub.models import AccessToken
from tests.factories import PASSWORD, UserFactory, totp_code

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}


def shoot(page, artifacts, name):
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts / f"{name}-{label}.png"), full_page=True)
        # Nothing sticks out sideways on a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name} is wider than {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_member_makes_and_revokes_a_token_and_sets_up_two_factor(
    chromium_available, live_server, page, artifacts, settings
):
    settings.MFA_TOTP_TOLERANCE = 1  # the code is computed a moment before it is checked
    UserFactory(username="grace", display_name="Grace Hopper")
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username or e-mail").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()

    page.goto(live_server.url + "/settings/tokens/")
    nav = page.get_by_role("navigation", name="Account settings")
    expect(nav.get_by_role("link", name="API tokens")).to_have_attribute("aria-current", "page")
    page.get_by_label("Name").fill("nightly backup")
    page.get_by_label("Write: create, change and delete as you (includes read)").check()
    page.get_by_label("Expires").select_option("30")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="Your new token").input_value()
    assert secret.startswith("ph_")
    expect(page.get_by_text("Copy it now: it is shown only this once.")).to_be_visible()
    expect(page.locator(".token-row")).to_contain_text("nightly backup")
    shoot(page, artifacts, "api-tokens")

    page.reload()  # sends the form again: no second token, and the secret is gone for good
    expect(page.get_by_text("That form was already sent")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your new token")).to_have_count(0)
    assert AccessToken.objects.count() == 1
    page.get_by_role("button", name="Revoke the token nightly backup").click()
    expect(page.get_by_text("is revoked: it no longer works")).to_be_visible()
    assert AccessToken.objects.get().revoked_at is not None

    nav.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("link", name="Activate").click()
    page.get_by_label("Password").fill(PASSWORD)  # allauth asks again before a security change
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    shoot(page, artifacts, "two-factor-setup")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    page.goto(live_server.url + "/accounts/2fa/")
    expect(page.get_by_text("Authentication using an authenticator app is active.")).to_be_visible()
