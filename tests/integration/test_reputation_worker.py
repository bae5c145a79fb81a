"""Reputation through a real Celery worker: Redis as the broker, PostgreSQL as the database.

Every task this test process queues (the vote's sync on commit included) goes to a queue of its
own for the test's duration, consumed by worker processes started here and stopped by their pid."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import Max, Sum
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import Solution
from peerhub import outbox
from peerhub.celery import app as celery_app
from peerhub.models import OutboxTask, User
from reputation import ledger, tasks
from reputation.models import ReputationEvent, ReputationScore, Vote
from tests.conftest import need, using_postgres, using_redis
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.real_worker]


class Workers:
    """Starts worker processes on one queue; each is stopped (or killed) by its own pid."""

    def __init__(self, queue: str, tmp_path: Path):
        db = connection.settings_dict
        self.database_url = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
        self.queue = queue
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        n = len(self.processes)
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": settings.REDIS_URL}
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "peerhub", "worker", "--pool=solo",
                "--loglevel=INFO", f"--queues={self.queue}",
                f"--pidfile={self.tmp_path / f'worker{n}.pid'}",
                f"--hostname={self.queue}-{n}@%h",
                f"--logfile={self.tmp_path / f'worker{n}.log'}", "--without-gossip",
                "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _forget_unacked(queue: str) -> None:
    """A message whose worker was killed waits in Redis's `unacked` hash until the visibility
    timeout (an hour) brings it back; this test's queue is gone by then, so drop it now."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for tag, raw in client.hgetall("unacked").items():
        try:
            _message, _exchange, routing_key = json.loads(raw)
        except ValueError:
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.delete(queue)


@pytest.fixture
def workers(transactional_db, tmp_path):
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")
    need(using_redis(), "Redis (REDIS_URL)")
    queue = f"peerhub-test-{uuid.uuid4().hex[:8]}"
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    handle = Workers(queue, tmp_path)
    try:
        yield handle
    finally:
        handle.stop_all()
        celery_app.conf.task_default_queue = previous_queue
        _forget_unacked(queue)


def score(user) -> Decimal | None:
    row = ReputationScore.objects.filter(user=user).first()
    return row.total if row else None


def test_an_api_vote_updates_the_authors_score_through_the_real_worker(workers):
    solution = make_solution()
    author = solution.author
    workers.start()
    voter = UserFactory()
    client = APIClient()
    client.force_authenticate(voter)

    response = client.post(f"/api/solutions/{solution.pk}/vote/", {"value": 1}, format="json")

    assert response.status_code in (200, 201), response.content
    started = time.monotonic()
    wait_until(
        lambda: score(author) == Decimal(11),
        timeout=60,
        what="the worker to sync the vote into the author's score",
    )
    print(f"vote reached the score {time.monotonic() - started:.2f}s after the response")
    assert list(ReputationEvent.objects.values_list("fact_key", "amount")) == [
        (f"up:{solution.pk}:{voter.pk}", Decimal("10.00"))
    ]


def _build_facts(*, solutions: int, voters: int) -> None:
    """Solutions (some forks, for lineage credit) and upvotes recorded behind the services' back,
    so the ledger holds nothing for them: only the full rebuild can derive their lines."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # forks' own syncs run here, not in a worker
    try:
        challenge = ChallengeFactory()
        authors = UserFactory.create_batch(20)
        made = []
        for i in range(solutions):
            author = authors[i % len(authors)]
            if i % 5 == 4:
                made.append(make_fork(made[i - 3], author=author))
            else:
                made.append(make_solution(challenge, author=author, title=f"Idea {i}"))
    finally:
        celery_app.conf.task_always_eager = previous
    crowd = UserFactory.create_batch(voters)
    Vote.objects.bulk_create(
        Vote(solution=s, voter=v, value=Vote.UP)
        for s in made
        for v in crowd
        if v.pk % 3 != s.pk % 3
    )


def _ledger_sums() -> dict[str, Decimal]:
    rows = ReputationEvent.objects.values("fact_key").annotate(total=Sum("amount"))
    return {row["fact_key"]: row["total"] for row in rows}


def test_a_worker_killed_mid_rebuild_is_run_again_by_the_sweep_with_the_clean_result(workers):
    """The rebuild is promised through the outbox, as beat promises it (peerhub.tasks.promise):
    SIGKILL the worker mid-run, start another, and the sweep publishes the rebuild again once
    its lease is over, without a person; the result is exactly a clean rebuild's."""
    _build_facts(solutions=300, voters=6)
    sentinel = UserFactory()  # no facts: only the rebuild's last step writes their score
    baseline = ReputationEvent.objects.count()
    desired = ledger.desired_for_solutions(Solution.objects.values_list("pk", flat=True))
    desired_sums = {key: line.amount for key, line in desired.items()}

    first = workers.start()
    started = time.monotonic()
    outbox.enqueue(tasks.recompute_reputation, batch_size=3)  # published at once (autocommit)
    wait_until(
        lambda: ReputationEvent.objects.count() >= baseline + 50,
        timeout=90,
        what="the first worker to commit some batches of the rebuild",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed_after = time.monotonic() - started
    lines_at_kill = ReputationEvent.objects.count()
    assert lines_at_kill < len(desired), "the rebuild finished before the kill"
    assert not ReputationScore.objects.filter(user=sentinel).exists()

    # The promise is still there: the sweep publishes it again once its lease is over (run
    # here as if that time had passed; beat runs the sweep every minute).
    assert OutboxTask.objects.count() == 1
    workers.start()
    resent = time.monotonic()
    assert outbox.outbox_sweep(now=timezone.now() + outbox.lease() + timedelta(seconds=1)) == 1
    wait_until(
        lambda: ReputationScore.objects.filter(user=sentinel).exists(),
        timeout=180,
        what="the second worker to finish the rebuild",
    )
    # (Promises the rebuild itself makes, its trust-level notices, go to the default queue,
    # which this test's workers do not consume: only the rebuild's own row is watched.)
    kept = OutboxTask.objects.filter(task=tasks.recompute_reputation.name)
    wait_until(lambda: not kept.exists(), timeout=120, what="the rebuild's promise to be kept")
    finished_after = time.monotonic() - resent
    print(
        f"killed after {killed_after:.2f}s with {lines_at_kill - baseline} lines appended; "
        f"the resent rebuild took {finished_after:.2f}s"
    )

    # Exactly what a clean rebuild writes: one line per fact key, each with what the facts give.
    assert _ledger_sums() == desired_sums
    assert ReputationEvent.objects.aggregate(Max("seq"))["seq__max"] == 1
    assert ReputationEvent.objects.count() == len(desired)
    scores = dict(ReputationScore.objects.values_list("user_id", "total"))
    assert ledger.sync_everything() == 0
    ledger.recompute_scores(None)
    assert dict(ReputationScore.objects.values_list("user_id", "total")) == scores
    expected = ledger.totals_from_ledger()
    assert scores == {
        pk: max(Decimal(1), expected.get(pk, Decimal(0)) + 1)
        for pk in User.objects.values_list("pk", flat=True)
    }
