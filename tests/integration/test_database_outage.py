"""A database outage under a real server: gunicorn (one sync worker, so its persistent connection
is reused from request to request) in production mode against a throwaway PostgreSQL cluster,
made with initdb and started, stopped and restarted by its PID here. The shared PostgreSQL is
never touched.

- Restarted: the worker's connection is dead, and CONN_HEALTH_CHECKS replaces it — the first
  request after the restart is a 200, and none during it is a 500.
- Stopped: pages are the 503 page, the API its JSON error shape with status 503.
- Started again: 200."""

import importlib.util
import json
import threading
from pathlib import Path

import pytest

from tests.conftest import need, using_postgres
from tests.helpers import wait_until
from tests.integration.conftest import Server, ThrowawayCluster, as_postgres, postgres_bin

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")
    bindir, prefix = postgres_bin(), as_postgres()
    need(bindir is not None, "initdb and pg_ctl (/usr/lib/postgresql/*/bin)")
    need(prefix is not None, "running as root or as the postgres user (initdb refuses root)")
    need(importlib.util.find_spec("gunicorn") is not None, "gunicorn")
    cluster = ThrowawayCluster(bindir, prefix)
    server = Server(cluster.url("peerhub"), tmp_path_factory.mktemp("outage"))
    try:
        cluster.init()
        cluster.start()
        cluster.create_database("peerhub")
        server.migrate()
        server.start()
        yield cluster, server
    finally:
        server.stop()
        cluster.remove()


PAGE, API = "/", "/api/challenges/"


def test_a_restart_under_requests_gives_no_500_and_the_next_request_is_served(stack):
    cluster, server = stack
    if cluster.pid is None:
        cluster.start()
    assert server.get(PAGE)[0] == 200
    assert server.get(API)[0] == 200  # the worker now holds a persistent connection

    statuses: list[int] = []
    done = threading.Event()

    def keep_asking():
        while not done.is_set():
            for path in (PAGE, API):
                statuses.append(server.get(path)[0])

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        wait_until(lambda: len(statuses) >= 2, timeout=30, what="requests before the restart")
        cluster.stop()
        cluster.start()
        seen = len(statuses)
        wait_until(lambda: len(statuses) >= seen + 4, timeout=30, what="requests after it")
    finally:
        done.set()
        asker.join(timeout=60)
    assert 500 not in statuses
    assert set(statuses) <= {200, 503}, statuses

    # The quiet case: a connection the restart killed is replaced before it is used.
    cluster.stop()
    cluster.start()
    assert server.get(PAGE)[0] == 200
    cluster.stop()
    cluster.start()
    assert server.get(API)[0] == 200


def test_stopped_is_a_503_in_each_shape_and_started_again_is_a_200(stack):
    cluster, server = stack
    if cluster.pid is None:
        cluster.start()
    assert server.get(PAGE)[0] == 200

    cluster.stop()
    try:
        status, headers, body = server.get(PAGE)
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Retry-After"] == "30"
        assert b"PeerHub is briefly unavailable" in body

        status, headers, body = server.get(API)
        assert status == 503
        assert headers["Content-Type"].startswith("application/json")
        assert headers["Retry-After"] == "30"
        error = json.loads(body)["error"]
        assert (error["status"], error["code"]) == (503, "unavailable")

        assert server.get("/healthz")[0] == 503
    finally:
        cluster.start()

    assert server.get(PAGE)[0] == 200
    assert server.get(API)[0] == 200
