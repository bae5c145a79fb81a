"""Throwaway services for the integration tests, each on its own port and stopped by its PID
(the shared PostgreSQL and Redis are never touched): a Redis broker and real Celery workers on
it (durability tests); PostgreSQL clusters made with initdb, a streaming standby of one made
with pg_basebackup -R, and gunicorn in production mode on them (outage and replica tests)."""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import connection

from peerhub.celery import app as celery_app
from tests.conftest import need, using_postgres, using_redis
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]


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

    def __init__(self, bindir: Path, prefix: list[str], *, name: str = "outage"):
        self.bindir, self.prefix = bindir, prefix
        self.port = free_port()
        self.options = ""  # more server settings, e.g. "-c log_statement=all"
        self.dir = Path(tempfile.mkdtemp(prefix=f"peerhub-{name}-pg-"))
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
        options += f" {self.options}" if self.options else ""
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

    def standby_of(self, primary: "ThrowawayCluster") -> None:
        """Make this cluster a streaming standby of `primary`: a base backup with -R writes
        standby.signal and primary_conninfo (initdb's trust rules allow replication locally)."""
        self.run(str(self.bindir / "pg_basebackup"), "-D", str(self.data), "-h", "127.0.0.1",
                 "-p", str(primary.port), "-U", "postgres", "-X", "stream", "-R",
                 "--checkpoint=fast", "--no-sync")  # fmt: skip

    @property
    def log(self) -> Path:
        return self.dir / "log"

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

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


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Server:
    """gunicorn in production mode (DEBUG off) with one sync worker."""

    def __init__(self, database_url: str, tmp: Path, **env: str):
        self.port, self.tmp, self.process = free_port(), tmp, None
        inherited = {"REDIS_URL", "DATABASE_URL", "DATABASE_REPLICA_URL"}
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in inherited},
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
            **env,
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

    def get(self, path: str, **kwargs) -> tuple[int, dict, bytes]:
        return self.request(path, **kwargs)

    def request(
        self, path: str, *, data: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        """GET, or POST with `data`; redirects are answered, not followed."""
        url = f"http://127.0.0.1:{self.port}{path}"
        opener = urllib.request.build_opener(NoRedirects)
        try:
            request = urllib.request.Request(url, data=data, headers=headers or {})
            with opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, ConnectionError):
            return 0, {}, b""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


class ThrowawayRedis:
    def __init__(self, tmp_path: Path):
        self.port, self.dir, self.process = free_port(), tmp_path, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        wait_until(lambda: self._pings(client), timeout=20, what="the throwaway Redis")

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)


def use_broker(url: str) -> None:
    """Point this process's Celery producer at `url` (new connections, fresh pools)."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = None
    celery_app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    celery_app._pool = None  # kombu keeps one pool per URL: the next publish takes this one's
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(transactional_db, tmp_path):
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")
    need(using_redis(), "Redis (REDIS_URL)")
    need(bool(shutil.which("redis-server")), "redis-server")
    previous = (
        celery_app.conf.broker_url,
        celery_app.conf.task_publish_retry_policy,
        celery_app.conf.task_always_eager,
    )
    server = ThrowawayRedis(tmp_path)
    server.start()
    use_broker(server.url)
    celery_app.conf.task_always_eager = False
    try:
        yield server
    finally:
        server.stop()
        use_broker(previous[0])
        celery_app.conf.task_publish_retry_policy = previous[1]
        celery_app.conf.task_always_eager = previous[2]


@pytest.fixture
def start_worker(tmp_path):
    processes = []

    def start(broker_url: str) -> subprocess.Popen:
        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
        pidfile = tmp_path / f"worker{len(processes)}.pid"
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": broker_url}
        processes.append((subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "peerhub", "worker", "--pool=solo",
             "--loglevel=INFO", f"--pidfile={pidfile}",
             f"--logfile={tmp_path / f'worker{len(processes)}.log'}",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             f"--queues={settings.CELERY_TASK_DEFAULT_QUEUE}"],
            cwd=ROOT, env=env,
        ), pidfile))  # fmt: skip
        return processes[-1][0]

    yield start
    for process, _pidfile in processes:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
