"""Personal access tokens: hashed at rest, shown once, scoped, expiring, revocable on the settings
page and through the API, and all revoked when the password changes."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from peerhub import tokens
from peerhub.models import AccessToken
from tests.factories import PASSWORD, UserFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

MARKETPLACE_READS = [
    "/api/orders/",
    "/api/payouts/",
    "/api/subscriptions/",
    "/api/balance/",
    "/api/refunds/",
]


def issue(user=None, scopes=("read",), days=90, **kwargs):
    return tokens.token_create(
        user=user or UserFactory(), name="script", scopes=scopes, expires_in_days=days, **kwargs
    )


def client_with(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# --- Storage --------------------------------------------------------------------------------


def test_only_a_hash_and_a_short_prefix_are_stored():
    issued = issue()
    row = AccessToken.objects.values().get(pk=issued.token.pk)
    assert issued.secret.startswith("ph_") and len(issued.secret) == 46
    assert row["digest"] == tokens.digest(issued.secret)
    assert row["prefix"] == issued.secret[:11]
    assert all(issued.secret not in str(value) for value in row.values())


def test_secrets_are_unique_and_random():
    user = UserFactory()
    secrets = {issue(user).secret for _ in range(20)}
    assert len(secrets) == 20


def test_expiry_defaults_to_90_days_and_never_only_when_asked(member_api_client):
    made = member_api_client.post("/api/auth/tokens/", {"name": "a", "scopes": ["read"]}).json()
    expires = timezone.datetime.fromisoformat(made["expires_at"])
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)
    never = member_api_client.post(
        "/api/auth/tokens/", {"name": "b", "scopes": ["read"], "expires_in_days": None}
    ).json()
    assert never["expires_at"] is None


# --- Shown once -----------------------------------------------------------------------------


def test_the_api_shows_the_secret_once(member_api_client):
    made = member_api_client.post("/api/auth/tokens/", {"name": "ci", "scopes": ["read"]})
    assert made.status_code == 201
    secret = made.json()["token"]
    listing = member_api_client.get("/api/auth/tokens/")
    detail = member_api_client.get(f"/api/auth/tokens/{made.json()['id']}/")
    assert secret not in listing.content.decode() and secret not in detail.content.decode()
    assert listing.json()["results"][0]["prefix"] == secret[:11]
    assert client_with(secret).get("/api/me/").json()["username"] == member_api_client.user.username


def test_the_settings_page_shows_the_secret_once(member_client):
    form = {"name": "backup", "scopes": ["read"], "expires_in": "30", "nonce": "n1"}
    response = member_client.post(reverse("access-tokens"), form)
    html = response.content.decode()
    secret = re.search(r'value="(ph_[^"]+)"', html).group(1)
    assert "shown only this once" in html
    assert response["Cache-Control"] == "no-store"
    token = AccessToken.objects.get(user=member_client.user)
    assert token.name == "backup" and token.scope_list == ["read"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    again = member_client.get(reverse("access-tokens")).content.decode()
    assert secret not in again
    assert f"{secret[:11]}…" in again
    # The same form sent again (a reload) makes no second token and shows no secret.
    resent = member_client.post(reverse("access-tokens"), form, follow=True).content.decode()
    assert "already sent" in resent and secret not in resent
    assert AccessToken.objects.count() == 1


def test_the_settings_page_needs_a_name_and_a_read_or_write_scope(member_client):
    response = member_client.post(
        reverse("access-tokens"),
        {"name": "", "scopes": ["marketplace"], "expires_in": "90", "nonce": "a"},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    response = member_client.post(
        reverse("access-tokens"),
        {"name": "x", "scopes": ["marketplace"], "expires_in": "90", "nonce": "b"},
    )
    assert "needs the read or the write scope" in response.content.decode()
    assert not AccessToken.objects.exists()


def test_the_settings_page_needs_a_signed_in_member(client):
    assert client.get(reverse("access-tokens")).status_code == 302


# --- Scopes ---------------------------------------------------------------------------------


def test_a_read_token_reads_but_cannot_write():
    client = client_with(issue(scopes=["read"]).secret)
    assert client.get("/api/me/").status_code == 200
    error = assert_error(client.patch("/api/me/", {"bio": "x"}), 403, "insufficient_scope")
    assert "write" in error["message"]


def test_a_write_token_reads_and_writes():
    issued = issue(scopes=["write"])
    assert issued.token.scope_list == ["read", "write"]
    client = client_with(issued.secret)
    assert client.get("/api/me/").status_code == 200
    assert client.patch("/api/me/", {"bio": "hello"}).status_code == 200


@pytest.mark.parametrize("path", MARKETPLACE_READS)
def test_money_endpoints_need_the_marketplace_scope(path):
    user = UserFactory()
    without = client_with(issue(user, scopes=["read", "write"]).secret)
    assert_error(without.get(path), 403, "insufficient_scope")
    with_it = client_with(issue(user, scopes=["read", "marketplace"]).secret)
    assert with_it.get(path).status_code == 200


def test_a_read_marketplace_token_cannot_move_money():
    client = client_with(issue(scopes=["read", "marketplace"]).secret)
    error = assert_error(client.post("/api/payouts/", {}), 403, "insufficient_scope")
    assert "write" in error["message"]


def test_public_marketplace_pages_need_no_marketplace_scope():
    assert client_with(issue(scopes=["read"]).secret).get("/api/offers/").status_code == 200


def test_a_token_cannot_make_a_stronger_or_longer_lived_token():
    user = UserFactory()
    issued = issue(user, scopes=["read", "write"], days=7)
    client = client_with(issued.secret)
    assert_error(
        client.post("/api/auth/tokens/", {"name": "x", "scopes": ["write", "marketplace"]}),
        403,
        "insufficient_scope",
    )
    assert_error(
        client.post("/api/auth/tokens/", {"name": "x", "scopes": ["read"], "expires_in_days": 30}),
        403,
        "insufficient_scope",
    )
    ok = client.post("/api/auth/tokens/", {"name": "x", "scopes": ["read"], "expires_in_days": 6})
    assert ok.status_code == 201
    read_only = client_with(issue(user, scopes=["read"]).secret)
    assert_error(
        read_only.post("/api/auth/tokens/", {"name": "x", "scopes": ["read"]}),
        403,
        "insufficient_scope",
    )


def test_unknown_scopes_are_a_clean_400(member_api_client):
    response = member_api_client.post("/api/auth/tokens/", {"name": "x", "scopes": ["admin"]})
    assert "scopes" in assert_error(response, 400, "invalid")["fields"]


# --- Expiry, use and revocation ---------------------------------------------------------------


def test_an_expired_token_is_refused():
    issued = issue()
    AccessToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now())
    error = assert_error(client_with(issued.secret).get("/api/me/"), 401, "token_expired")
    assert "expired" in error["message"]


def test_use_is_recorded_at_most_once_a_minute():
    issued = issue()
    client = client_with(issued.secret)
    client.get("/api/me/")
    first = AccessToken.objects.get(pk=issued.token.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/me/")
    sql = [query["sql"] for query in queries.captured_queries]
    assert 'JOIN "peerhub_user"' in sql[0]  # the token with its member, in one query
    assert not any(statement.startswith("UPDATE") for statement in sql)
    assert AccessToken.objects.get(pk=issued.token.pk).last_used_at == first


def test_revoke_through_the_api(member_api_client):
    made = member_api_client.post("/api/auth/tokens/", {"name": "ci", "scopes": ["read"]}).json()
    assert member_api_client.delete(f"/api/auth/tokens/{made['id']}/").status_code == 204
    assert_error(client_with(made["token"]).get("/api/me/"), 401, "authentication_failed")
    assert member_api_client.get("/api/auth/tokens/").json()["count"] == 0
    assert_error(member_api_client.delete(f"/api/auth/tokens/{made['id']}/"), 404, "not_found")


def test_revoke_on_the_settings_page(member_client):
    issued = issue(member_client.user)
    response = member_client.post(reverse("access-token-revoke", args=[issued.token.pk]))
    assert response.status_code == 302
    assert_error(client_with(issued.secret).get("/api/me/"), 401)
    page = member_client.get(reverse("access-tokens")).content.decode()
    assert "is revoked" in page and "You have no tokens yet" in page


def test_members_see_and_revoke_only_their_own_tokens(member_client, member_api_client):
    other = issue(UserFactory())
    assert_error(member_api_client.get(f"/api/auth/tokens/{other.token.pk}/"), 404)
    assert_error(member_api_client.delete(f"/api/auth/tokens/{other.token.pk}/"), 404)
    response = member_client.post(reverse("access-token-revoke", args=[other.token.pk]))
    assert response.status_code == 404
    assert client_with(other.secret).get("/api/me/").status_code == 200


def test_a_password_change_revokes_every_token(client):
    user = UserFactory()
    first, second = issue(user), issue(user, scopes=["write"])
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another long phrase",
            "password2": "another long phrase",
        },
    )
    assert response.status_code == 302
    for issued in (first, second):
        assert_error(client_with(issued.secret).get("/api/me/"), 401)


def test_a_password_reset_revokes_every_token(client, mailoutbox):
    user = UserFactory(email="reset@example.org")
    issued = issue(user)
    client.post(reverse("account_reset_password"), {"email": "reset@example.org"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mailoutbox[-1].body)
    follow = client.get(link.group(1))
    client.post(
        follow["Location"], {"password1": "a new phrase here", "password2": "a new phrase here"}
    )
    assert_error(client_with(issued.secret).get("/api/me/"), 401)


def test_any_set_password_revokes_but_a_hash_upgrade_does_not(settings):
    user = UserFactory()
    issued = issue(user)
    # A login that upgrades the stored hash (the hasher changed) is not a password change.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert user.check_password(PASSWORD)
    assert user.password.startswith("scrypt$")
    assert client_with(issued.secret).get("/api/me/").status_code == 200
    user.set_password("changed by the admin")
    user.save()
    assert_error(client_with(issued.secret).get("/api/me/"), 401)


def test_an_inactive_members_tokens_stop_working():
    issued = issue()
    issued.token.user.is_active = False
    issued.token.user.save()
    assert_error(client_with(issued.secret).get("/api/me/"), 401)


# --- The password exchange for scripts ------------------------------------------------------


def test_the_password_exchange_issues_a_read_write_token_for_90_days(api_client):
    UserFactory(username="alice")
    body = api_client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}).json()
    assert body["scopes"] == ["read", "write"]
    assert body["name"] == "API token (password)"
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)
    custom = api_client.post(
        "/api/auth/token/",
        {
            "username": "alice",
            "password": PASSWORD,
            "name": "shop",
            "scopes": ["read", "marketplace"],
            "expires_in_days": 7,
        },
    ).json()
    assert custom["scopes"] == ["read", "marketplace"]
    assert AccessToken.objects.count() == 2  # one token per exchange, each revocable alone


def test_the_schema_documents_the_tokens_and_their_defaults(api_client, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/auth/tokens/", "/api/auth/tokens/{id}/"} <= set(schema["paths"])
    exchange = schema["paths"]["/api/auth/token/"]["post"]["description"]
    assert "`read` and `write`" in exchange and "90 days" in exchange
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert "marketplace" in scheme["description"]


# --- Tokens from before scopes -------------------------------------------------------------


def test_plain_tokens_from_before_are_converted_and_keep_working():
    from importlib import import_module

    migration = import_module("peerhub.migrations.0004_access_tokens")
    user = UserFactory()
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY, '
            '"created" timestamp NOT NULL, "user_id" bigint NOT NULL)'
        )
        cursor.execute(
            'INSERT INTO "authtoken_token" VALUES (%s, %s, %s)', [key, timezone.now(), user.pk]
        )

        class Editor:  # the two things the migration asks of a schema editor
            def __init__(self):
                self.connection = connection

            def execute(self, sql):
                cursor.execute(sql)

        from django.apps import apps

        migration.convert_plain_tokens(apps, Editor())
    assert "authtoken_token" not in connection.introspection.table_names()
    converted = AccessToken.objects.get(user=user)
    assert converted.digest == tokens.digest(key)
    assert converted.scope_list == ["read", "write", "marketplace"]
    assert converted.expires_at is not None
    assert client_with(key).get("/api/me/").json()["username"] == user.username
