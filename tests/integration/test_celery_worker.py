"""A real Celery worker, in its own process, consuming from Redis and writing to PostgreSQL."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from peerhub.models import User
from peerhub.tasks import purge_stale_unverified_accounts
from tests.conftest import need, using_postgres, using_redis
from tests.factories import UserFactory
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.real_worker]


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")
    need(using_redis(), "Redis (REDIS_URL)")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    queue = f"peerhub-test-{uuid.uuid4().hex[:8]}"
    pidfile = tmp_path / "worker.pid"
    logfile = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": settings.REDIS_URL}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "peerhub", "worker", "--pool=solo",
            "--loglevel=INFO", f"--queues={queue}", f"--pidfile={pidfile}",
            f"--hostname={queue}@%h", f"--logfile={logfile}", "--without-gossip",
            "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        yield queue
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        else:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_real_worker_runs_a_task_that_writes_to_postgres(celery_worker_process):
    stale = UserFactory(verified=False)
    User.objects.filter(pk=stale.pk).update(date_joined=timezone.now() - timedelta(days=30))
    keeper = UserFactory()

    purge_stale_unverified_accounts.apply_async(queue=celery_worker_process)

    wait_until(
        lambda: not User.objects.filter(pk=stale.pk).exists(),
        timeout=60,
        what="the worker to delete the stale account",
    )
    assert User.objects.filter(pk=keeper.pk).exists()
