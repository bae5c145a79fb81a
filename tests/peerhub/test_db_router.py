"""The replica router's rules (peerhub/replica.py): which reads may go to the replica, the
read-your-writes pin, and the fallback to the primary when the replica is behind or down.

Here the replica is a mirror of the test database (what settings do with DATABASE_REPLICA_URL:
TEST={'MIRROR': 'default'}): a second connection to the same database, so the tests commit
(transaction=True) and see which connection each query used. tests/integration/test_replica.py
does the same against a real streaming replica."""

import copy

import pytest
from django.core.cache import cache
from django.db import OperationalError, connections
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from peerhub import replica
from peerhub.replica import REPLICA, REPLICA_API_VIEWS, REPLICA_VIEWS, ReplicaRouter
from tests.factories import ChallengeFactory, UserFactory

# Without DATABASE_REPLICA_URL there is no replica alias: give this run the one settings would.
if REPLICA not in connections.settings:
    connections.settings[REPLICA] = {
        **copy.deepcopy(connections.settings["default"]),
        "TEST": {**connections.settings["default"]["TEST"], "MIRROR": "default", "NAME": None},
    }

both_databases = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(autouse=True)
def routed(settings):
    settings.DATABASE_ROUTERS = ["peerhub.replica.ReplicaRouter"]
    if "peerhub.replica.ReplicaMiddleware" not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, "peerhub.replica.ReplicaMiddleware"]
    settings.PEERHUB_REPLICA = {"pin_seconds": 15, "max_lag_seconds": 5, "check_seconds": 0}
    replica.reset_replica_health()
    yield
    replica.reset_replica_health()
    connections[REPLICA].errors_occurred = False  # a test's refused connection never opened


class Queries:
    """The queries each connection ran inside the block."""

    def __enter__(self):
        self.primary = CaptureQueriesContext(connections["default"]).__enter__()
        self.replica = CaptureQueriesContext(connections[REPLICA]).__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    def read_tables(self, which) -> str:
        return " ".join(q["sql"] for q in getattr(self, which).captured_queries)


def in_request(use_replica=True):
    routing = replica.RequestRouting(use_replica=use_replica)
    return routing, replica._routing.set(routing)


# --- The router -----------------------------------------------------------------------------


def test_outside_a_request_every_read_uses_the_primary():
    """Tasks, commands and shells never set the request context: primary."""
    router = ReplicaRouter()
    assert router.db_for_read(None) is None
    assert router.db_for_write(None) == "default"


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "challenges")
    assert not router.allow_migrate(REPLICA, "challenges")


def test_an_allowed_request_reads_from_the_replica_until_its_first_write():
    router = ReplicaRouter()
    routing, token = in_request()
    try:
        assert router.db_for_read(None) == REPLICA
        assert router.db_for_write(None) == "default"
        assert routing.wrote
        assert router.db_for_read(None) is None
    finally:
        replica._routing.reset(token)


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_uses_the_primary():
    from django.db import transaction

    router = ReplicaRouter()
    _routing, token = in_request()
    try:
        with transaction.atomic():
            assert router.db_for_read(None) is None
    finally:
        replica._routing.reset(token)


def test_a_request_not_allowed_reads_from_the_primary():
    router = ReplicaRouter()
    _routing, token = in_request(use_replica=False)
    try:
        assert router.db_for_read(None) is None
    finally:
        replica._routing.reset(token)


# --- Which requests may read from the replica -----------------------------------------------


def request_for(path, *, method="get", user=None, session_key=None, **headers):
    from django.contrib.auth.models import AnonymousUser

    request = getattr(RequestFactory(), method)(path, headers=headers)
    request.user = user or AnonymousUser()
    request.resolver_match = resolve(path)

    class Session:
        pass

    request.session = Session()
    request.session.session_key = session_key
    return request


@both_databases
def test_allowed_pages_and_anonymous_api_lists_may_read_from_the_replica():
    assert replica.may_read_from_replica(request_for("/challenges/"))
    assert replica.may_read_from_replica(request_for("/leaderboard/"))
    assert replica.may_read_from_replica(request_for("/search/"))
    assert replica.may_read_from_replica(request_for("/api/challenges/"))
    assert replica.may_read_from_replica(request_for("/api/leaderboard/"))


@both_databases
def test_writes_and_pages_not_allowed_use_the_primary():
    assert not replica.may_read_from_replica(request_for("/challenges/", method="post"))
    assert not replica.may_read_from_replica(request_for("/api/challenges/", method="post"))
    assert not replica.may_read_from_replica(request_for("/notifications/"))
    assert not replica.may_read_from_replica(request_for("/api/me/"))
    assert not replica.may_read_from_replica(request_for("/accounts/login/"))


@both_databases
def test_the_api_reads_from_the_replica_for_anonymous_visitors_only():
    member = UserFactory()
    assert not replica.may_read_from_replica(request_for("/api/challenges/", user=member))
    assert not replica.may_read_from_replica(
        request_for("/api/challenges/", Authorization="Token abc")
    )
    # A page knows its member before the view runs, so a pin can hold them to the primary.
    assert replica.may_read_from_replica(request_for("/challenges/", user=member))


@both_databases
def test_a_pinned_member_or_session_reads_from_the_primary():
    member = UserFactory()
    replica.pin_to_primary([f"replica-pin:user:{member.pk}", "replica-pin:session:abc"])
    assert not replica.may_read_from_replica(request_for("/challenges/", user=member))
    assert not replica.may_read_from_replica(request_for("/challenges/", session_key="abc"))
    assert replica.may_read_from_replica(request_for("/challenges/", user=UserFactory()))
    assert replica.may_read_from_replica(request_for("/challenges/", session_key="other"))


@both_databases
def test_when_the_cache_cannot_tell_a_member_reads_from_the_primary(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    replica.pin_to_primary(["replica-pin:user:1"])  # logged, not raised: the write is done
    assert not replica.may_read_from_replica(request_for("/challenges/", user=UserFactory()))
    assert replica.may_read_from_replica(request_for("/challenges/"))  # nothing to look up


@both_databases
def test_without_a_replica_alias_nothing_is_routed(monkeypatch):
    from django.conf import settings

    monkeypatch.delitem(settings.DATABASES, REPLICA)
    assert not replica.may_read_from_replica(request_for("/challenges/"))


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    name=st.sampled_from([*sorted(REPLICA_VIEWS | REPLICA_API_VIEWS), "api-me", "x:other"]),
    signed_in=st.booleans(),
    token=st.booleans(),
)
def test_only_safe_requests_to_allowed_views_are_ever_routed(method, name, signed_in, token):
    """The invariant, whatever the request: unsafe methods, views off the lists, and the API
    for anyone who may be a member never reach the replica (the replica itself is up here)."""
    from django.contrib.auth.models import AnonymousUser

    class Match:
        view_name = name

    class Member:
        is_authenticated = True
        pk = 1

    request = RequestFactory().generic(method, "/", headers={"authorization": "T"} if token else {})
    request.user = Member() if signed_in else AnonymousUser()
    request.resolver_match = Match()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replica, "replica_usable", lambda: True)
        patch.setattr(replica, "replica_configured", lambda: True)
        patch.setattr(replica, "is_pinned", lambda keys: False)
        routed = replica.may_read_from_replica(request)
    allowed = method in {"GET", "HEAD"} and (
        name in REPLICA_VIEWS or (name in REPLICA_API_VIEWS and not signed_in and not token)
    )
    assert routed == allowed


# --- Through the middleware -----------------------------------------------------------------


@both_databases
def test_an_anonymous_list_page_reads_from_the_replica(client):
    ChallengeFactory(title="Clean water")
    with Queries() as queries:
        response = client.get("/challenges/")
    assert response.status_code == 200
    assert b"Clean water" in response.content
    assert "challenges_challenge" in queries.read_tables("replica")
    assert "challenges_challenge" not in queries.read_tables("primary")


@both_databases
def test_a_page_says_whether_it_was_read_from_the_replica(client):
    """What a page cache asks before it stores a page (see served_from_replica)."""
    assert replica.served_from_replica(client.get("/challenges/").wsgi_request)
    client.force_login(UserFactory())
    assert not replica.served_from_replica(client.get("/notifications/").wsgi_request)


@both_databases
def test_an_anonymous_api_list_reads_from_the_replica(client):
    ChallengeFactory(title="Clean water")
    with Queries() as queries:
        response = client.get("/api/challenges/")
    assert response.status_code == 200
    assert "challenges_challenge" in queries.read_tables("replica")


@both_databases
def test_a_page_off_the_list_reads_from_the_primary(client):
    member = UserFactory()
    client.force_login(member)
    with Queries() as queries:
        response = client.get("/notifications/")
    assert response.status_code == 200
    assert queries.replica.captured_queries == []


@both_databases
def test_a_member_who_wrote_reads_their_write_from_the_primary(client):
    member, other = UserFactory(), UserFactory()
    client.force_login(member)
    response = client.post(
        "/settings/profile/", {"display_name": "New name", "bio": "", "skills": ""}
    )
    assert response.status_code == 302
    with Queries() as queries:
        response = client.get(f"/u/{member.username}/")
    assert b"New name" in response.content
    assert queries.replica.captured_queries == []  # pinned to the primary

    # Someone else is not pinned: the same page is read off the replica.
    client.force_login(other)
    with Queries() as queries:
        client.get(f"/u/{member.username}/")
    assert queries.replica.captured_queries


@both_databases
def test_the_pin_expires(client, settings):
    settings.PEERHUB_REPLICA = {**settings.PEERHUB_REPLICA, "pin_seconds": 15}
    member = UserFactory()
    client.force_login(member)
    client.post("/settings/profile/", {"display_name": "New name", "bio": "", "skills": ""})
    assert replica.is_pinned([f"replica-pin:user:{member.pk}"])
    # What the cache does after pin_seconds:
    cache.delete_many(
        [f"replica-pin:user:{member.pk}", f"replica-pin:session:{client.session.session_key}"]
    )
    with Queries() as queries:
        client.get(f"/u/{member.username}/")
    assert queries.replica.captured_queries


@both_databases
def test_a_replica_behind_by_more_than_allowed_is_not_used(client, settings):
    settings.PEERHUB_REPLICA = {**settings.PEERHUB_REPLICA, "max_lag_seconds": -1}
    ChallengeFactory(title="Clean water")
    with Queries() as queries:
        response = client.get("/challenges/")
    assert b"Clean water" in response.content
    assert "challenges_challenge" not in queries.read_tables("replica")  # only the lag check
    assert "challenges_challenge" in queries.read_tables("primary")


@both_databases
def test_a_replica_that_does_not_answer_is_not_used(client, monkeypatch):
    ChallengeFactory(title="Clean water")
    unreachable = connections[REPLICA]
    # Closing an in-memory SQLite connection is ignored: drop it for the test instead.
    monkeypatch.setattr(unreachable, "connection", None)

    def refuse():
        raise unreachable.Database.OperationalError("connection refused")

    monkeypatch.setattr(unreachable, "get_new_connection", lambda params: refuse())
    response = client.get("/challenges/")
    assert response.status_code == 200
    assert b"Clean water" in response.content
    assert not replica._health["usable"]


@both_databases
def test_a_replica_failing_under_a_view_runs_the_view_again_on_the_primary(client, monkeypatch):
    ChallengeFactory(title="Clean water")
    monkeypatch.setattr(replica, "replica_usable", lambda: True)
    failing = connections[REPLICA]
    monkeypatch.setattr(failing, "connection", None)

    def refuse():
        raise failing.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(failing, "get_new_connection", lambda params: refuse())
    response = client.get("/challenges/")
    assert response.status_code == 200
    assert b"Clean water" in response.content
    assert replica._health["usable"] is False
    assert replica._health["checked_at"] > float("-inf")  # marked down by the retry


@both_databases
def test_a_failure_of_the_primary_is_not_retried(client, monkeypatch):
    """Only the replica's failures make the view run again; the primary's are the outage 503."""
    request = request_for("/challenges/")
    request._replica_routing = replica.RequestRouting(use_replica=True)
    request._replica_routing.used.add(REPLICA)
    middleware = replica.ReplicaMiddleware(lambda r: None)
    assert middleware.process_exception(request, OperationalError("primary down")) is None


# --- Settings ---------------------------------------------------------------------------------

SHOW_REPLICA = """
import json, django
django.setup()
from django.conf import settings
replica = settings.DATABASES.get("replica")
print(json.dumps({
    "replica": replica and {k: replica[k] for k in ("ENGINE", "HOST", "PORT", "NAME", "TEST")},
    "timeout": replica and replica["OPTIONS"].get("connect_timeout"),
    "routers": settings.DATABASE_ROUTERS,
    "last_middleware": settings.MIDDLEWARE[-1],
    "replica_settings": settings.PEERHUB_REPLICA,
}))
"""


def show_replica_settings(**env):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    keep = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL"}
    }
    result = subprocess.run(
        [sys.executable, "-c", SHOW_REPLICA],
        cwd=Path(__file__).resolve().parents[2],
        env={**keep, "DJANGO_SETTINGS_MODULE": "peerhub.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_database_replica_url_there_is_no_replica_router_or_middleware():
    shown = show_replica_settings()
    assert shown["replica"] is None
    assert shown["routers"] == []
    assert shown["last_middleware"] != "peerhub.replica.ReplicaMiddleware"


def test_database_replica_url_adds_the_replica_its_router_and_its_middleware_last():
    shown = show_replica_settings(
        DATABASE_URL="postgres://peerhub:pw@primary:5432/peerhub",
        DATABASE_REPLICA_URL="postgres://peerhub:pw@standby:5433/peerhub",
        REPLICA_PIN_SECONDS="30",
        REPLICA_MAX_LAG_SECONDS="10",
    )
    assert shown["replica"]["ENGINE"] == "django.db.backends.postgresql"
    assert (shown["replica"]["HOST"], shown["replica"]["PORT"]) == ("standby", 5433)
    assert shown["replica"]["TEST"]["MIRROR"] == "default"  # tests read the test database
    assert shown["timeout"] == 2
    assert shown["routers"] == ["peerhub.replica.ReplicaRouter"]
    assert shown["last_middleware"] == "peerhub.replica.ReplicaMiddleware"
    assert shown["replica_settings"] == {
        "pin_seconds": 30,
        "max_lag_seconds": 10.0,
        "check_seconds": 2.0,
    }
