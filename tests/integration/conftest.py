"""A throwaway Redis broker on its own port, stopped and started by its PID (the shared Redis
is never touched), and real Celery workers on it, for the durability tests."""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

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
