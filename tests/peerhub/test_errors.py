"""Error answers (peerhub.errors, peerhub.middleware): every error under /api/ speaks the API's
JSON error shape, and a database that does not answer is a 503 — a page of its own for the
browser, the JSON shape for the API — never a 500. A real outage (a PostgreSQL cluster stopped
and restarted under a real server) is tests/integration/test_database_outage.py."""

import json
from unittest import mock

import pytest
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory
from rest_framework.throttling import AnonRateThrottle

from peerhub import errors
from peerhub.api.views import ApiRootView
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def error_of(response) -> dict:
    """The JSON error of a response made without the test client (it has no .json())."""
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)["error"]


@pytest.fixture
def quiet_client(client):
    """A client that answers like a server would instead of raising the view's exception."""
    client.raise_request_exception = False
    return client


# --- Every status under /api/ in the one shape ---------------------------------------------------


def test_an_unknown_api_path_is_a_json_404(client):
    assert_error(client.get("/api/no-such-thing/"), 404, "not_found")
    assert_error(client.get("/api/solutions/987654/"), 404, "not_found")


def test_a_method_the_api_view_does_not_allow_is_a_json_405(member_api_client):
    response = member_api_client.delete("/api/challenges/")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_a_405_from_a_plain_django_view_under_api_gets_the_shape_and_keeps_allow(client):
    # The payment webhook is a plain view limited to POST (django.views.decorators.http).
    response = client.get("/api/payments/webhook/sandbox/")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    assert response["X-Content-Type-Options"] == "nosniff"  # the security headers stay


def test_a_body_over_the_cap_is_a_json_413(member_api_client):
    body = json.dumps({"title": "x" * (2 * MIB)})
    response = member_api_client.post("/api/challenges/", body, content_type="application/json")
    error = assert_error(response, 413, "too_large")
    assert "1,048,576 bytes" in error["message"]


def test_an_unsupported_media_type_is_a_json_415(member_api_client):
    response = member_api_client.post("/api/challenges/", "title=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_json_400(member_api_client):
    response = member_api_client.post("/api/challenges/", "{nope", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_too_many_requests_is_a_json_429_with_retry_after(client):
    class OnePerMinute(AnonRateThrottle):
        rate = "1/min"

    with mock.patch.object(ApiRootView, "throttle_classes", [OnePerMinute]):
        assert client.get("/api/").status_code == 200
        response = client.get("/api/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_bug_under_api_is_a_json_500(quiet_client):
    with mock.patch.object(ApiRootView, "get", side_effect=RuntimeError("a bug")):
        response = quiet_client.get("/api/")
    error = assert_error(response, 500, "server_error")
    assert "a bug" not in error["message"]  # nothing of the exception is shown


def test_a_bug_elsewhere_is_the_500_page(quiet_client):
    with mock.patch("peerhub.views.render", side_effect=RuntimeError("a bug")):
        response = quiet_client.get("/code-of-conduct/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


def test_request_data_too_big_reaching_handler400_is_a_413():
    request = RequestFactory().post("/api/challenges/")
    response = errors.bad_request(request, RequestDataTooBig("too big"))
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    page = errors.bad_request(RequestFactory().post("/settings/profile/"), RequestDataTooBig())
    assert page.status_code == 413
    assert b"too much to send" in page.content


# --- A database that does not answer: 503 ----------------------------------------------------


@pytest.mark.parametrize("failure", [OperationalError, InterfaceError])
def test_a_database_error_in_an_api_view_is_a_json_503(quiet_client, failure):
    with mock.patch.object(ApiRootView, "get", side_effect=failure("connection refused")):
        response = quiet_client.get("/api/")
    assert_error(response, 503, "unavailable")
    assert response["Retry-After"] == str(errors.RETRY_AFTER)


def test_a_database_error_in_a_page_is_the_503_page(quiet_client):
    with mock.patch(
        "peerhub.views.selectors.manifesto_current", side_effect=OperationalError("gone")
    ):
        response = quiet_client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER)
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "PeerHub is briefly unavailable" in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html  # the site's look


def database_down():
    """Every query fails as with the server gone, the test's open connection included."""
    return mock.patch.object(
        BaseDatabaseWrapper,
        "ensure_connection",
        side_effect=OperationalError("could not connect to server: Connection refused"),
    )


def test_with_the_database_down_a_signed_in_member_gets_503_not_500(member_client):
    """The session and the user are loaded from the database — by a view, or by a middleware
    before it (handler500 answers then) — and that fails; the 503 page needs nothing from it."""
    member_client.raise_request_exception = False
    with database_down():
        page = member_client.get("/")
        api = member_client.get("/api/challenges/")
    assert page.status_code == 503
    assert b"PeerHub is briefly unavailable" in page.content
    assert_error(api, 503, "unavailable")


def test_with_the_database_down_views_answer_503_in_debug_too(quiet_client, settings):
    """In DEBUG Django shows its traceback page instead of calling handler500; what fails in a
    view is still a 503 (DatabaseOutageMiddleware), the embedded default's way of working."""
    settings.DEBUG = True
    with database_down():
        page = quiet_client.get("/")
        api = quiet_client.get("/api/challenges/")
    assert page.status_code == 503
    assert_error(api, 503, "unavailable")


def test_a_database_outage_outside_a_view_reaches_handler500_and_is_a_503():
    """E.g. a session saved on the way out: Django calls handler500 while handling it."""
    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = errors.server_error(request)
    assert response.status_code == 503
    assert b"briefly unavailable" in response.content
    try:
        raise OperationalError("gone")
    except OperationalError:
        api = errors.server_error(RequestFactory().get("/api/me/"))
    assert api.status_code == 503
    assert error_of(api) == {
        "status": 503,
        "code": "unavailable",
        "message": "The service is briefly unavailable: try again in a moment.",
    }


def test_the_503_and_500_pages_render_without_a_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        unavailable = errors.error_response(RequestFactory().get("/"), 503)
        broken = errors.error_response(RequestFactory().get("/"), 500)
    assert b"briefly unavailable" in unavailable.content
    assert b"Something went wrong" in broken.content
