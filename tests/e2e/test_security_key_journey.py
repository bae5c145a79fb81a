"""A member adds a security key (WebAuthn) as their second factor, in Chromium with a virtual
authenticator (the DevTools protocol's WebAuthn domain): the key is stored and counts as
two-factor authentication, so staff pages and payouts let them through."""

import pytest
from playwright.sync_api import expect

from peerhub import mfa
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser


def test_member_adds_a_security_key(chromium_available, live_server, page, settings):
    from allauth.mfa.models import Authenticator

    member = UserFactory(username="ada2", display_name="Ada Lovelace")
    page.set_default_timeout(15_000)
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username or e-mail").fill("ada2")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()

    page.goto(live_server.url + "/accounts/2fa/webauthn/add/")
    if "reauthenticate" in page.url:  # allauth asks for the password before a security change
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("My USB key")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    page.wait_for_load_state("networkidle")

    keys = Authenticator.objects.filter(user=member, type=Authenticator.Type.WEBAUTHN)
    assert keys.count() == 1
    assert mfa.has_mfa(member)
