"""A Redis outage under a real server: gunicorn in production mode (one sync worker) with its
cache, sessions, throttles and page cache on a throwaway redis-server, stopped and started again
by its PID here (the shared Redis is never touched), on a database of its own in the shared
PostgreSQL.

- Stopped: the anonymous pages and the signed-in member's pages answer 200, the member stays
  signed in (the session is read from the database), and a comment is posted.
- Started again, with the keys it had (it saves them when stopped, as a Redis that was only
  unreachable keeps them): the page the comment changed is rendered afresh for a visitor, never
  the copy cached before the outage, although that copy and its versions are back in Redis."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.conftest import need, using_postgres, using_redis
from tests.helpers import wait_until
from tests.integration.conftest import NoRedirects, Server, ThrowawayRedis

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.services

SETUP = """
import json
from tests.factories import ChallengeFactory, UserFactory
member = UserFactory(username="outage-member", email="outage-member@example.org")
challenge = ChallengeFactory()
print(json.dumps({"challenge": challenge.get_absolute_url(), "slug": challenge.slug}))
"""


class KeepingRedis(ThrowawayRedis):
    """A throwaway Redis that saves its keys when stopped (SIGTERM) and loads them when started
    again on the same port."""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "3600 1", "--appendonly", "no", "--dir", str(self.dir),
             "--dbfilename", "keep.rdb"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        wait_until(lambda: self._pings(client), timeout=20, what="the throwaway Redis")


class Browser:
    """One visitor's cookies, sent by hand (the production cookies are Secure, and the server
    answers plain HTTP)."""

    def __init__(self, server: Server):
        self.server, self.cookies = server, {}

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        url = f"http://127.0.0.1:{self.server.port}{path}"
        opener = urllib.request.build_opener(NoRedirects)
        try:
            response = opener.open(
                urllib.request.Request(url, data=body, headers=headers), timeout=30
            )
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, dict(response.headers), response.read().decode()

    def csrf(self, path: str) -> str:
        status, _, page = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")
    need(using_redis(), "Redis (REDIS_URL)")
    need(bool(shutil.which("redis-server")), "redis-server")
    need(importlib.util.find_spec("gunicorn") is not None, "gunicorn")
    tmp = tmp_path_factory.mktemp("redis-outage")
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"peerhub_redis_outage_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(f"{base}/postgres")
    admin.autocommit = True
    store = KeepingRedis(tmp)
    server = Server(
        f"{base}/{name}",
        tmp,
        REDIS_URL=store.url,
        PAGE_CACHE="1",
        CACHE_RETRY_SECONDS="1",
        WRITE_LIMITS_ENABLED="1",
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        store.start()
        server.migrate()
        made = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SETUP],
            cwd=ROOT, env=server.env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        data = json.loads(made.stdout.strip().splitlines()[-1])
        server.start()
        yield store, server, data
    finally:
        server.stop()
        store.stop()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def signed_in(page: str) -> bool:
    return "/accounts/logout/" in page


def test_the_site_serves_through_a_redis_outage_and_no_stale_page_after(stack):
    store, server, data = stack
    challenge = data["challenge"]
    visitor = Browser(server)
    for path in ("/", "/challenges/", challenge):
        assert visitor.request(path)[0] == 200
    status, headers, _ = visitor.request(challenge)
    assert (status, headers.get("X-Page-Cache")) == (200, "hit")

    member = Browser(server)
    token = member.csrf("/accounts/login/")
    status, _, _ = member.request(
        "/accounts/login/",
        {"login": "outage-member", "password": "correct horse battery staple",
         "csrfmiddlewaretoken": token},
    )  # fmt: skip
    assert status == 302
    assert signed_in(member.request("/")[2])
    token = member.csrf(challenge)

    store.stop()  # by its PID: the shared Redis is never touched
    for path in ("/", "/challenges/", challenge):
        status, headers, _ = visitor.request(path)
        assert status == 200, path
        assert headers.get("X-Page-Cache") is None, path  # rendered fresh, not stored
    for path in ("/", "/challenges/", challenge, "/accounts/email/"):
        status, _, page = member.request(path)
        assert status == 200, path
        assert signed_in(page), path  # the session is read from the database
    status, _, _ = member.request(
        f"/discussion/challenge/{data['slug']}/",
        {"body": "Posted while Redis was down", "csrfmiddlewaretoken": token},
    )
    assert status in (200, 302)
    assert "Posted while Redis was down" in visitor.request(challenge)[2]
    assert server.get("/healthz")[0] == 503  # the health check still tells of the outage

    store.start()  # on the same port, with the keys it had: the old page and its versions
    wait_until(lambda: server.get("/healthz")[0] == 200, timeout=30, what="the cache to be back")
    status, headers, page = visitor.request(challenge)
    assert status == 200
    assert headers.get("X-Page-Cache") == "miss"
    assert "Posted while Redis was down" in page
    status, headers, page = visitor.request(challenge)
    assert headers.get("X-Page-Cache") == "hit"
    assert "Posted while Redis was down" in page
    assert signed_in(member.request(challenge)[2])
