"""The API twin of "Your data" (issue 21): /api/me/exports/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from peerhub import exports
from peerhub.models import DataExport
from tests.factories import UserFactory
from tests.helpers import after_commit, assert_error

pytestmark = pytest.mark.django_db

URL = "/api/me/exports/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_member_asks_for_an_export_and_follows_it():
    user = UserFactory()
    client = client_for(user)
    with after_commit():
        response = client.post(URL)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] in {"requested", "building", "ready"}
    listed = client.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    [row] = listed
    assert row["state"] == "ready" and row["progress"] == 100
    assert row["expires_at"] and row["size"] > 0
    download = client.get(row["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_asking_again_the_same_day_is_429_with_retry_after():
    user = UserFactory()
    client = client_for(user)
    with after_commit():
        client.post(URL)
    response = client.post(URL)
    assert_error(response, 429, "export_rate_limited")
    assert int(response["Retry-After"]) > 23 * 3600


def test_asking_while_one_is_built_is_409():
    user = UserFactory()
    exports.export_request(user=user)  # not built: nothing commits in the test
    assert_error(client_for(user).post(URL), 409, "export_in_flight")


def test_the_list_is_the_members_own():
    user, other = UserFactory(), UserFactory()
    with after_commit():
        exports.export_request(user=other)
    assert client_for(user).get(URL).json()["results"] == []


def test_another_members_export_is_not_found():
    with after_commit():
        export = exports.export_request(user=UserFactory())
    url = f"{URL}{export.pk}/download/"
    assert_error(client_for(UserFactory()).get(url), 404)


def test_an_expired_export_is_410_and_has_no_link():
    user = UserFactory()
    with after_commit():
        export = exports.export_request(user=user)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(1))
    client = client_for(user)
    assert client.get(URL).json()["results"][0]["download_url"] is None
    assert_error(client.get(f"{URL}{export.pk}/download/"), 410, "export_expired")


def test_visitors_are_refused():
    assert APIClient().get(URL).status_code in {401, 403}
    assert APIClient().post(URL).status_code in {401, 403}


def test_the_schema_describes_the_endpoints():
    schema = APIClient().get("/api/schema/?format=json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/me/exports/"])
    assert "/api/me/exports/{id}/download/" in schema["paths"]
    post = schema["paths"]["/api/me/exports/"]["post"]
    assert {"202", "409", "429"} <= set(post["responses"])
