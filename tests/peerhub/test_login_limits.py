"""Failed sign-ins are limited on every way in (the login page, the admin's login through it, the
API's token endpoint), per account and per client address, by one implementation; an attacker
can slow an account's password sign-in down but not lock its owner out."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from peerhub import login_limits
from peerhub.models import AccessToken
from tests.factories import PASSWORD, UserFactory, totp_code
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.20"
TOKEN_URL = "/api/auth/token/"
WRONG = "not the password"


def token_attempt(api_client, *, ip, password=WRONG, login="alice", xff=None, **extra):
    headers = {"REMOTE_ADDR": ip}
    if xff:
        headers["HTTP_X_FORWARDED_FOR"] = xff
    return api_client.post(TOKEN_URL, {"username": login, "password": password, **extra}, **headers)


def html_attempt(client, *, ip, password=WRONG, login="alice"):
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=ip
    )


def open_gate(scope: str, ident: str) -> None:
    """What waiting out the delay does (no test sleeps)."""
    cache.delete(login_limits._keys(scope, ident)[1])


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", email="alice@example.org")


def test_delays_double_after_the_free_attempts_up_to_a_ceiling():
    rule = login_limits.Rule(free=5, delay=30, max_delay=900, window=3600)
    assert [rule.delay_after(n) for n in range(1, 12)] == [
        0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900,
    ]  # fmt: skip


def test_token_brute_force_with_rotating_x_forwarded_for_is_limited(api_client, alice, settings):
    settings.TRUSTED_PROXIES = []  # the default: the header is the client's own invention
    answers = [
        token_attempt(api_client, ip=ATTACKER, xff=f"192.0.2.{n}").status_code for n in range(6)
    ]
    assert answers == [400] * 5 + [429]
    response = token_attempt(api_client, ip=ATTACKER, xff="192.0.2.99", password=PASSWORD)
    error = assert_error(response, 429, "too_many_login_attempts")
    assert "Too many failed login attempts" in error["message"]
    assert 1 <= int(response["Retry-After"]) <= 30
    assert not AccessToken.objects.exists()  # not even the right password got through


def test_the_owner_still_signs_in_from_their_own_address(api_client, alice):
    for n in range(8):
        token_attempt(api_client, ip=ATTACKER, xff=f"192.0.2.{n}")
    response = token_attempt(api_client, ip=OWNER, password=PASSWORD)
    assert response.status_code == 200, response.content
    assert response.json()["token"].startswith("ph_")


def test_behind_a_trusted_proxy_the_attackers_real_address_is_limited(api_client, alice, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for n in range(5):
        # The proxy appends the address it saw; the attacker varies what comes before it.
        token_attempt(api_client, ip="10.0.0.2", xff=f"192.0.2.{n}, {ATTACKER}")
    response = token_attempt(api_client, ip="10.0.0.3", xff=f"192.0.2.77, {ATTACKER}")
    assert_error(response, 429, "too_many_login_attempts")
    owner = token_attempt(api_client, ip="10.0.0.2", xff=OWNER, password=PASSWORD)
    assert owner.status_code == 200


def test_the_page_and_the_api_share_one_count(client, api_client, alice):
    for _ in range(3):
        token_attempt(api_client, ip=ATTACKER)
    for _ in range(2):
        html_attempt(client, ip=ATTACKER)
    response = html_attempt(client, ip=ATTACKER, password=PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_delay_lets_one_attempt_through_then_doubles(api_client, alice):
    for _ in range(5):
        token_attempt(api_client, ip=ATTACKER)
    assert token_attempt(api_client, ip=ATTACKER).status_code == 429
    open_gate("pair", f"user-{alice.pk}:{ATTACKER}")
    assert token_attempt(api_client, ip=ATTACKER).status_code == 400  # the sixth attempt
    response = token_attempt(api_client, ip=ATTACKER)
    assert response.status_code == 429
    assert 30 < int(response["Retry-After"]) <= 60


def test_the_same_account_under_another_spelling_is_the_same_account(api_client, alice):
    for login in ["alice", "ALICE", "alice@example.org", "Alice@Example.org", "alice"]:
        token_attempt(api_client, ip=ATTACKER, login=login)
    assert token_attempt(api_client, ip=ATTACKER, login="aLiCe").status_code == 429


def test_one_address_trying_many_accounts_is_limited(client, api_client, db):
    for n in range(20):  # through the page: the API's own throttle would stop them sooner
        html_attempt(client, ip=ATTACKER, login=f"victim{n}")
    response = token_attempt(api_client, ip=ATTACKER, login="someone-else")
    assert_error(response, 429, "too_many_login_attempts")


def test_a_spread_out_attack_slows_the_account_and_the_code_by_email_frees_it(
    client, api_client, alice, mailoutbox
):
    for n in range(10):  # ten addresses, one guess each: the account's free attempts
        token_attempt(api_client, ip=f"192.0.2.{n}")
    # The owner's password is refused for now, wherever they are, and they are told the way in.
    response = html_attempt(client, ip=OWNER, password=PASSWORD)
    text = response.content.decode()
    assert "Too many failed login attempts for this account" in text
    assert "code sent to your e-mail" in text
    error = assert_error(token_attempt(api_client, ip=OWNER, password=PASSWORD), 429)
    assert "e-mail" in error["message"]

    # The sign-in code by e-mail is never limited by failed passwords.
    client.get(reverse("account_login"))
    response = client.post(
        reverse("account_request_login_code"), {"email": "alice@example.org"}, REMOTE_ADDR=OWNER
    )
    assert response.status_code == 302
    code = re.search(r"window\.\s+(\S+)\s", mailoutbox[-1].body).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code}, REMOTE_ADDR=OWNER)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    # ...and signing in frees the account's password sign-in for scripts too.
    assert token_attempt(api_client, ip=OWNER, password=PASSWORD).status_code == 200


def test_a_successful_sign_in_starts_the_account_afresh(api_client, alice):
    for _ in range(4):
        token_attempt(api_client, ip=ATTACKER)
    assert token_attempt(api_client, ip=ATTACKER, password=PASSWORD).status_code == 200
    answers = [token_attempt(api_client, ip=ATTACKER).status_code for _ in range(6)]
    assert answers == [400] * 5 + [429]


def test_a_password_reset_frees_the_account(client, api_client, alice, mailoutbox):
    for n in range(10):
        token_attempt(api_client, ip=f"192.0.2.{n}")
    assert token_attempt(api_client, ip=OWNER, password=PASSWORD).status_code == 429
    client.post(reverse("account_reset_password"), {"email": "alice@example.org"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mailoutbox[-1].body)
    follow = client.get(link.group(1))
    new = "a brand new passphrase"
    client.post(follow["Location"], {"password1": new, "password2": new})
    assert token_attempt(api_client, ip=OWNER, password=new).status_code == 200


def test_accounts_with_two_factor_need_the_code_for_a_token_and_a_wrong_one_counts(
    api_client, settings
):
    settings.MFA_TOTP_TOLERANCE = 1  # the code is computed a moment before it is checked
    UserFactory(username="alice", mfa=True)
    missing = token_attempt(api_client, ip=OWNER, password=PASSWORD)
    assert_error(missing, 403, "otp_required")
    wrong = token_attempt(api_client, ip=OWNER, password=PASSWORD, otp="000000")
    assert_error(wrong, 403, "otp_invalid")
    right = token_attempt(api_client, ip=OWNER, password=PASSWORD, otp=totp_code())
    assert right.status_code == 200
    for _ in range(5):
        token_attempt(api_client, ip=ATTACKER, password=PASSWORD, otp="000000")
    assert (
        token_attempt(api_client, ip=ATTACKER, password=PASSWORD, otp="000000").status_code == 429
    )
