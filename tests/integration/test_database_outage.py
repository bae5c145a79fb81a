"""A database outage under a real server: gunicorn (one sync worker, so its persistent connection
is reused from request to request) in production mode against a throwaway PostgreSQL cluster,
made with initdb and started, stopped and restarted by its PID here. The shared PostgreSQL is
never touched.

- Restarted: the worker's connection is dead, and CONN_HEALTH_CHECKS replaces it — the first
  request after the restart is a 200, and none during it is a 500.
- Stopped: pages are the 503 page, the API its JSON error shape with status 503.
- Started again: 200."""

import glob
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import need, using_postgres
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.services


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
    )
    return Path(found[-1]).parent if found else None


def as_postgres() -> list[str] | None:
    """The prefix that runs a command as the postgres user (initdb refuses root)."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    if pwd.getpwuid(os.geteuid()).pw_name == "postgres":
        return []
    return None


class ThrowawayCluster:
    """A PostgreSQL cluster of its own in a temporary directory, on its own port."""

    def __init__(self, bindir: Path, prefix: list[str]):
        self.bindir, self.prefix = bindir, prefix
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="peerhub-outage-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres", group="postgres")
        self.data = self.dir / "data"

    def run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                 "-A", "trust", "-E", "UTF8", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                 "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        """A fast shutdown by the postmaster's PID: clients are disconnected at once."""
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=60, what="PostgreSQL to stop")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """gunicorn in production mode (DEBUG off) with one sync worker."""

    def __init__(self, database_url: str, tmp: Path):
        self.port, self.tmp, self.process = free_port(), tmp, None
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}},
            "DJANGO_SETTINGS_MODULE": "tests.integration.outage_settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": "outage-test-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "PEERHUB_VAR_DIR": str(tmp),
            "MAILER": "console",
            # Production refuses the payment sandbox unless it is chosen on purpose.
            "PAYMENT_PROVIDER": "sandbox",
            "MARKETPLACE_PAYOUT_PROVIDER": "sandbox",
            "PAYMENT_SANDBOX_IN_PRODUCTION": "1",
        }

    def migrate(self) -> None:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"],
                       cwd=ROOT, env=self.env, check=True, capture_output=True,
                       timeout=300)  # fmt: skip

    def start(self) -> None:
        log = open(self.tmp / "gunicorn.log", "wb")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "peerhub.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: self.get("/healthz")[0] == 200, timeout=60, what="gunicorn to serve")

    def get(self, path: str) -> tuple[int, dict, bytes]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, ConnectionError):
            return 0, {}, b""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


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
