"""Two-factor authentication: members set it up themselves; staff need it before any staff page
or the admin, sellers before a payout (HTML and API alike)."""

import re
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from rest_framework.test import APIClient

from marketplace import services
from marketplace.models import Payout
from peerhub import mfa, tokens
from peerhub.management.commands.seed_demo import DEMO_TOTP_SECRET, Command
from tests.factories import PASSWORD, UserFactory, totp_code
from tests.helpers import assert_error
from tests.marketplace.factories import delivered_order

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/marketplace/staff/", "/admin/", "/admin/peerhub/user/", "/moderation/trust/"]
SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def _code_period_tolerance(settings):
    """A code is computed a moment before it is checked: a period boundary in between is fine."""
    settings.MFA_TOTP_TOLERANCE = 1


def sign_in(client, user, *, code=None):
    """Through the real login form (and its 2FA step), as a member would."""
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    if code is not None:
        assert response["Location"] == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302, response.content
    return response


# --- Staff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_without_2fa_are_sent_to_set_it_up(client, path):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, mfa=False))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == SETUP
    page = client.get(SETUP, follow=True).content.decode()
    assert "Staff pages need two-factor authentication" in page


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_with_2fa_reach_staff_pages(client, path):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(path).status_code == 200


def test_the_staff_api_refuses_staff_without_2fa_by_session_and_by_token():
    staff = UserFactory(is_staff=True, mfa=False)
    session = APIClient()
    session.force_login(staff)
    assert_error(session.get("/api/payments/events/"), 403, "mfa_required")
    issued = tokens.token_create(
        user=staff, name="ops", scopes=["read", "marketplace"], expires_in_days=1
    )
    by_token = APIClient()
    by_token.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    assert_error(by_token.get("/api/payments/events/"), 403, "mfa_required")
    assert by_token.get("/api/orders/").status_code == 200  # a member's own pages still work
    Authenticator.objects.filter(user=staff).delete()
    mfa_staff = UserFactory(is_staff=True)
    session.force_login(mfa_staff)
    assert session.get("/api/payments/events/").status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/marketplace/orders/1/resolve/"),
        ("post", "/api/orders/1/resolve/"),
        ("post", "/api/refunds/1/retry/"),
        ("post", "/api/payouts/1/retry/"),
    ],
)
def test_staff_actions_inside_members_pages_need_2fa_too(method, path):
    staff = APIClient()
    staff.force_login(UserFactory(is_staff=True, mfa=False))
    response = getattr(staff, method)(path)
    if path.startswith("/api/"):
        assert_error(response, 403, "mfa_required")
    else:
        assert response["Location"] == SETUP
    # Members who are not staff get the pages' own answers (here: no such order), no 2FA.
    member = APIClient()
    member.force_login(UserFactory())
    response = getattr(member, method)(path)
    assert response.get("Location") != SETUP and b"mfa_required" not in response.content


def test_members_who_are_not_staff_are_not_asked(member_client):
    response = member_client.get("/marketplace/staff/")
    assert response["Location"].startswith("/admin/login/")  # the page's own answer


def test_the_staff_rule_can_be_turned_off(client, settings):
    settings.PEERHUB_MFA = {**settings.PEERHUB_MFA, "staff": False}
    client.force_login(UserFactory(is_staff=True, mfa=False))
    assert client.get("/marketplace/staff/").status_code == 200


# --- Sellers' payouts -----------------------------------------------------------------------


@pytest.fixture
def seller_without_2fa():
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    Authenticator.objects.filter(user=order.seller).delete()
    return order.seller


def test_a_seller_without_2fa_cannot_pay_out_on_the_page(client, seller_without_2fa):
    client.force_login(seller_without_2fa)
    response = client.post(
        reverse("marketplace:payout-request"), {"amount": "10", "confirmed": "yes"}, follow=True
    )
    assert "Payouts need two-factor authentication" in response.content.decode()
    assert not Payout.objects.exists()


def test_a_seller_without_2fa_cannot_pay_out_through_the_api(seller_without_2fa):
    api = APIClient()
    api.force_authenticate(seller_without_2fa)
    error = assert_error(api.post("/api/payouts/", {"amount": 1000}), 403, "mfa_required")
    assert "two-factor" in error["message"]
    assert not Payout.objects.exists()


def test_the_rule_is_one_function_the_payout_service_calls(seller_without_2fa):
    with pytest.raises(mfa.NotAllowed) as refused:
        services.payout_request(seller=seller_without_2fa, amount=1000)
    assert refused.value.code == "mfa_required"


# --- Setting it up and signing in with it -----------------------------------------------------


def test_a_member_sets_up_an_authenticator_app_and_then_signs_in_with_it(client):
    user = UserFactory(username="grace")
    sign_in(client, user)
    # allauth asks for the password again before a security change.
    assert client.get(SETUP)["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(SETUP).content.decode()
    secret = re.search(r'id="authenticator_secret"\s+value="([A-Z2-7]+)"', page)
    response = client.post(SETUP, {"code": totp_code(secret.group(1))})
    assert response.status_code == 302
    assert mfa.has_mfa(user)
    assert "recovery" in client.get(response["Location"]).content.decode().lower()

    client.logout()
    sign_in(client, user, code=totp_code(secret.group(1)))
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_second_factor_keeps_the_member_out(client):
    user = UserFactory(mfa=True)
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_settings_pages_link_two_factor_and_tokens(member_client):
    html = member_client.get(reverse("account_email")).content.decode()
    assert reverse("mfa_index") in html and reverse("access-tokens") in html
    assert "Authenticator App" in member_client.get(reverse("mfa_index")).content.decode()


# --- The demo's staff account -----------------------------------------------------------------


def test_the_demo_staff_account_has_the_second_factor_readme_documents(client):
    ada = UserFactory(username="ada", is_staff=True, is_superuser=True, mfa=False)
    Command()._staff_second_factor([ada])
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert DEMO_TOTP_SECRET in readme
    documented = re.findall(r"`(\d{8})`", readme.split("### Demo accounts")[1].split("###")[0])
    codes = Authenticator.objects.get(user=ada, type="recovery_codes").wrap().generate_codes()
    assert documented == codes
    sign_in(client, ada, code=totp_code(DEMO_TOTP_SECRET))
    assert client.get("/marketplace/staff/").status_code == 200
