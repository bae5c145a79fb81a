"""Reads off a real streaming replica (peerhub/replica.py): a throwaway primary made with
initdb, a standby made from it with pg_basebackup -R, both on their own ports and stopped by
their PIDs, and gunicorn in production mode with DATABASE_URL on the primary and
DATABASE_REPLICA_URL on the standby. The shared PostgreSQL is never touched.

The standby logs every statement, so a test sees which server answered a page. Pausing the
standby's replay makes it stale on purpose: the page then shows which data it was read from.

- An anonymous visitor's page is read off the replica.
- A member who just wrote reads the write from the primary while the replica is behind;
  anonymous visitors see the replica's older page until replay catches up.
- The lag check: a replica holding back a write reports lag; caught up, none.
- A stopped replica: pages are served from the primary."""

import importlib.util
import secrets
import subprocess
import sys
import urllib.parse

import psycopg2
import pytest

from peerhub.replica import replica_lag_seconds
from tests.conftest import need, using_postgres
from tests.helpers import wait_until
from tests.integration.conftest import ROOT, Server, ThrowawayCluster, as_postgres, postgres_bin

pytestmark = pytest.mark.services

MEMBER = "ada"

SEED = f"""
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from peerhub.models import User

user = User.objects.create_user("{MEMBER}", "{MEMBER}@example.org", "x" * 20, display_name="Ada")
EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "peerhub.auth_backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")
    bindir, prefix = postgres_bin(), as_postgres()
    need(bindir is not None, "initdb, pg_ctl and pg_basebackup (/usr/lib/postgresql/*/bin)")
    need(prefix is not None, "running as root or as the postgres user (initdb refuses root)")
    need(importlib.util.find_spec("gunicorn") is not None, "gunicorn")
    primary = ThrowawayCluster(bindir, prefix, name="primary")
    standby = ThrowawayCluster(bindir, prefix, name="standby")
    standby.options = "-c log_statement=all"
    server = Server(
        primary.url("peerhub"),
        tmp_path_factory.mktemp("replica"),
        DATABASE_REPLICA_URL=standby.url("peerhub"),
        REPLICA_CHECK_SECONDS="0",  # every request checks: the tests change the replica
        REPLICA_MAX_LAG_SECONDS="3600",  # a paused replica stays in use, stale on purpose
        REPLICA_PIN_SECONDS="600",
    )
    try:
        primary.init()
        primary.start()
        primary.create_database("peerhub")
        server.migrate()
        seeded = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SEED],
            cwd=ROOT, env=server.env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        session_key = seeded.stdout.strip().splitlines()[-1]
        standby.standby_of(primary)
        standby.start()
        server.start()
        yield primary, standby, server, session_key
    finally:
        server.stop()
        standby.remove()
        primary.remove()


def read_by_standby(standby: ThrowawayCluster, server: Server, path: str, **kwargs):
    """GET `path`; answer the response and whether the standby ran the page's user query."""
    before = standby.log.stat().st_size
    status, _headers, body = server.get(path, **kwargs)
    with standby.log.open("rb") as log:
        log.seek(before)
        logged = log.read().decode(errors="replace")
    return status, body, '"peerhub_user"' in logged


def replay_a_write(primary: ThrowawayCluster, standby: ThrowawayCluster) -> None:
    """A write the standby has replayed: until it has replayed one since it started, a standby
    that is behind cannot tell by how much, and the lag check counts it unusable."""
    table = f"replayed_{secrets.token_hex(4)}"
    primary.sql(f"CREATE TABLE {table} (id int); DROP TABLE {table}", database="peerhub")
    wait_until(
        lambda: standby.sql(
            "SELECT pg_last_xact_replay_timestamp() IS NOT NULL"
            " AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
        )[0][0],
        timeout=30,
        what="the standby to replay a write",
    )


def member_headers(session_key: str, csrf: str | None = None) -> dict:
    cookies = f"sessionid={session_key}"
    headers = {}
    if csrf:
        cookies += f"; csrftoken={csrf}"
        headers["X-CSRFToken"] = csrf
    return {"Cookie": cookies, **headers}


def test_an_anonymous_page_is_read_off_the_replica(replicated):
    _primary, standby, server, _session = replicated
    wait_until(
        lambda: read_by_standby(standby, server, f"/u/{MEMBER}/")[2],
        timeout=30,
        what="the standby to answer the profile page",
    )
    status, body, from_standby = read_by_standby(standby, server, f"/u/{MEMBER}/")
    assert (status, from_standby) == (200, True)
    assert b"Ada" in body
    assert server.get("/api/challenges/")[0] == 200


def test_a_member_reads_their_write_from_the_primary_while_the_replica_is_behind(replicated):
    primary, standby, server, session_key = replicated
    replay_a_write(primary, standby)
    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        csrf = secrets.token_hex(16)  # 32 characters: Django's unmasked CSRF secret
        status, _headers, body = server.request(
            "/settings/profile/",
            data=urllib.parse.urlencode(
                {"display_name": "Ada Lovelace", "bio": "", "skills": ""}
            ).encode(),
            headers={
                **member_headers(session_key, csrf),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert status == 302, body[:2000]

        status, body, from_standby = read_by_standby(
            standby, server, f"/u/{MEMBER}/", headers=member_headers(session_key)
        )
        assert status == 200
        assert b"Ada Lovelace" in body
        assert not from_standby  # pinned to the primary

        # Everyone else reads the replica, which has not replayed the write yet.
        status, body, from_standby = read_by_standby(standby, server, f"/u/{MEMBER}/")
        assert (status, from_standby) == (200, True)
        assert b"Ada Lovelace" not in body
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
    wait_until(
        lambda: b"Ada Lovelace" in server.get(f"/u/{MEMBER}/")[2],
        timeout=30,
        what="the standby to replay the write",
    )


def test_the_lag_check_sees_a_replica_holding_back_a_write(replicated):
    primary, standby, _server, _session = replicated
    connection = psycopg2.connect(host="127.0.0.1", port=standby.port, user="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            replay_a_write(primary, standby)
            wait_until(
                lambda: replica_lag_seconds(cursor) == 0.0, timeout=30, what="a caught-up standby"
            )
            standby.sql("SELECT pg_wal_replay_pause()")
            try:
                primary.sql("CREATE TABLE held_back (id int)", database="peerhub")
                wait_until(
                    lambda: (replica_lag_seconds(cursor) or 0.0) > 0.0,
                    timeout=30,
                    what="the standby to receive the write it does not replay",
                )
            finally:
                standby.sql("SELECT pg_wal_replay_resume()")
            wait_until(
                lambda: replica_lag_seconds(cursor) == 0.0,
                timeout=30,
                what="the standby to catch up",
            )
    finally:
        connection.close()
        primary.sql("DROP TABLE IF EXISTS held_back", database="peerhub")


def test_a_stopped_replica_falls_back_to_the_primary(replicated):
    _primary, standby, server, _session = replicated
    standby.stop()
    try:
        status, _headers, body = server.get(f"/u/{MEMBER}/")
        assert status == 200
        assert b"Ada" in body
        assert server.get("/api/challenges/")[0] == 200
        assert server.get("/challenges/")[0] == 200
    finally:
        standby.start()
    wait_until(
        lambda: read_by_standby(standby, server, f"/u/{MEMBER}/")[2],
        timeout=30,
        what="the restarted standby to serve again",
    )
