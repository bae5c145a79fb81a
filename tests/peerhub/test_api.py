import pytest
from django.core.management import call_command

from peerhub import tokens
from peerhub.models import AccessToken
from tests.factories import (
    PASSWORD,
    ManifestoSignatureFactory,
    ManifestoVersionFactory,
    UserFactory,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_token_for_username_and_password_then_me(api_client):
    user = UserFactory(username="alice")
    response = api_client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    stored = AccessToken.objects.get(user=user)
    assert stored.digest == tokens.digest(token)

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/me/").json()
    assert me["username"] == "alice"
    assert me["email_verified"] is True


def test_token_by_email_address(api_client):
    UserFactory(username="alice", email="alice@example.org")
    response = api_client.post(
        "/api/auth/token/", {"username": "alice@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_wrong_password_is_a_clean_400(api_client):
    UserFactory(username="alice")
    response = api_client.post("/api/auth/token/", {"username": "alice", "password": "wrong"})
    error = assert_error(response, 400, "invalid")
    assert "Unable to log in" in error["message"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api_client, db):
    response = api_client.post("/api/auth/token/", {"username": "ghost", "password": "x"})
    assert "Unable to log in" in assert_error(response, 400, "invalid")["message"]


def test_token_request_missing_fields(api_client, db):
    error = assert_error(api_client.post("/api/auth/token/", {}), 400, "invalid")
    assert set(error["fields"]) == {"username", "password"}


def test_token_refused_until_the_address_is_verified(api_client):
    UserFactory(username="pending", verified=False)
    response = api_client.post("/api/auth/token/", {"username": "pending", "password": PASSWORD})
    assert_error(response, 403, "forbidden")


def test_token_endpoint_is_throttled(api_client, db):
    for _ in range(10):
        api_client.post("/api/auth/token/", {"username": "ghost", "password": "x"})
    response = api_client.post("/api/auth/token/", {"username": "ghost", "password": "x"})
    assert_error(response, 429, "throttled")


def test_me_without_credentials_is_a_clean_401(api_client, db):
    assert_error(api_client.get("/api/me/"), 401, "not_authenticated")


def test_me_with_a_bad_token_is_a_clean_401(api_client, db):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(api_client.get("/api/me/"), 401, "authentication_failed")


def test_me_patch_edits_the_profile(member_api_client):
    response = member_api_client.patch(
        "/api/me/", {"display_name": "Ada", "skills": "a, b", "email": "evil@example.org"}
    )
    assert response.status_code == 200
    body = member_api_client.get("/api/me/").json()
    assert body["display_name"] == "Ada"
    assert body["skills"] == "a, b"
    assert body["email"] == member_api_client.user.email  # read-only


def test_me_patch_rejects_bad_input_with_field_errors(member_api_client):
    error = assert_error(member_api_client.patch("/api/me/", {"display_name": "x" * 81}), 400)
    assert "display_name" in error["fields"]


def test_user_detail_and_list(api_client):
    UserFactory(username="alice", display_name="Alice Liddell", skills="maths")
    UserFactory(username="bob")
    detail = api_client.get("/api/users/alice/").json()
    assert detail["name"] == "Alice Liddell"
    assert detail["skills"] == ["maths"]
    assert "email" not in detail

    listing = api_client.get("/api/users/", {"search": "liddell"}).json()
    assert listing["count"] == 1
    assert listing["results"][0]["username"] == "alice"


def test_user_list_is_paginated(api_client):
    UserFactory.create_batch(25)
    body = api_client.get("/api/users/", {"page_size": 10}).json()
    assert body["count"] == 25
    assert len(body["results"]) == 10
    assert body["next"]


def test_the_member_lists_total_is_the_kept_count_and_follows_every_change(
    api_client, django_assert_num_queries
):
    from django.core.cache import cache

    cache.clear()
    UserFactory.create_batch(3)
    UserFactory(verified=False)  # not a public member: not counted
    assert api_client.get("/api/users/").json()["count"] == 3
    with django_assert_num_queries(1):  # the page's rows; the total is the kept figure
        assert (
            api_client.get("/api/users/", {"page_size": 2, "ordering": "-username"}).json()["count"]
            == 3
        )
    gone = UserFactory()
    assert api_client.get("/api/users/").json()["count"] == 4
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert api_client.get("/api/users/").json()["count"] == 3
    # Narrowed, the list is counted.
    UserFactory(username="zed", display_name="Zed")
    assert api_client.get("/api/users/", {"search": "zed"}).json()["count"] == 1
    assert api_client.get("/api/users/", {"date_joined__gte": "2000-01-01"}).json()["count"] == 4


def test_unknown_user_is_a_json_404(api_client, db):
    assert_error(api_client.get("/api/users/ghost/"), 404, "not_found")


def test_unknown_api_path_is_a_json_404(api_client, db):
    assert_error(api_client.get("/api/no-such-thing/"), 404, "not_found")


def test_manifesto_read_and_sign(member_api_client):
    version = ManifestoVersionFactory(number=3)
    ManifestoSignatureFactory(version=version)
    body = member_api_client.get("/api/manifesto/").json()
    assert body["number"] == 3
    assert body["signature_count"] == 1
    assert body["signed_by_me"] is False

    first = member_api_client.post("/api/manifesto/sign/")
    assert first.status_code == 201
    assert first.json()["version"] == 3
    again = member_api_client.post("/api/manifesto/sign/")
    assert again.status_code == 200

    body = member_api_client.get("/api/manifesto/").json()
    assert body["signature_count"] == 2
    assert body["signed_by_me"] is True
    signatures = member_api_client.get("/api/manifesto/signatures/").json()
    assert signatures["count"] == 2


def test_sign_requires_authentication(api_client, db):
    ManifestoVersionFactory()
    assert_error(api_client.post("/api/manifesto/sign/"), 401)


def test_unverified_member_cannot_sign_through_the_api(api_client, unverified_user):
    ManifestoVersionFactory()
    api_client.force_authenticate(unverified_user)
    assert_error(api_client.post("/api/manifesto/sign/"), 403, "forbidden")


def test_no_manifesto_yet_is_a_json_404(api_client, db):
    assert_error(api_client.get("/api/manifesto/"), 404, "not_found")


def test_signing_without_a_manifesto_is_a_clean_400(member_api_client):
    assert_error(member_api_client.post("/api/manifesto/sign/"), 400, "no_manifesto")


def test_malformed_json_is_a_clean_400(member_api_client):
    response = member_api_client.generic(
        "PATCH", "/api/me/", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_api_root_lists_the_endpoints(api_client, db):
    links = api_client.get("/api/").json()["links"]
    assert links["schema"].endswith("/api/schema/")


def test_openapi_schema_is_valid_and_complete(api_client, db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    for path in ["/api/auth/token/", "/api/me/", "/api/users/", "/api/manifesto/sign/"]:
        assert path in paths


def _openapi(api_client) -> dict:
    return api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _body_schema(responses: dict, code: str) -> dict:
    return responses[code]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/api/leaderboard/", "PaginatedStandingList"),
        ("/api/rankings/", "PaginatedSolutionScoreList"),
        ("/api/challenges/{slug}/rankings/", "PaginatedSolutionScoreList"),
        ("/api/solutions/{id}/reviews/", "PaginatedReviewList"),
        ("/api/users/{username}/reputation/", "PaginatedReputationEventList"),
    ],
)
def test_schema_documents_lists_with_their_pagination_envelope(api_client, path, page):
    responses = _openapi(api_client)["paths"][path]["get"]["responses"]
    assert _body_schema(responses, "200")["$ref"].endswith(f"/{page}")


def test_schema_documents_every_4xx_in_the_one_error_shape(api_client):
    paths = _openapi(api_client)["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            errors = {c: r for c, r in operation["responses"].items() if c.startswith("4")}
            assert "400" in errors, (method, path)
            for code in errors:
                assert _body_schema(errors, code)["$ref"].endswith("/Error"), (method, path, code)
    order_pay = paths["/api/orders/{id}/pay/"]["post"]["responses"]
    assert {"401", "403", "404", "409", "413", "415", "422", "429"} <= set(order_pay)
    assert "404" in paths["/api/solutions/{id}/"]["get"]["responses"]


def test_schema_marks_read_only_fields_nullable_and_blank_as_their_model_fields(api_client):
    components = _openapi(api_client)["components"]["schemas"]
    assert components["Comment"]["properties"]["parent"]["nullable"] is True
    assert components["Challenge"]["properties"]["proposal"]["nullable"] is True
    resolution = components["Order"]["properties"]["resolution"]["oneOf"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in resolution


def test_api_docs_page_loads_without_any_external_asset(client, db):
    html = client.get("/api/docs/").content.decode()
    assert "swagger" in html.lower()
    assert "cdn." not in html and "unpkg" not in html
