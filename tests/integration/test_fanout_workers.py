"""The fanned-out rebuild and rankings (reputation.partitions) through real Celery workers, one
and two, on PostgreSQL and Redis: the run finishes once, and a full single-task rebuild and
rankings recompute afterwards find nothing to change, i.e. the partitions wrote what the single
task writes. Workers are started as tests/integration/test_reputation_worker.py starts them."""

import time

import pytest
from django.utils import timezone

from peerhub import outbox
from reputation import fitness, ledger, partitions
from reputation.models import FanoutRun, ReputationEvent, ReputationScore, SolutionScore
from tests.helpers import wait_until
from tests.integration.test_reputation_worker import (  # noqa: F401 (a fixture)
    _build_facts,
    _ledger_sums,
    workers,
)

pytestmark = [pytest.mark.services, pytest.mark.real_worker]


@pytest.fixture(autouse=True)
def _workers_queue_their_own_tasks(workers, monkeypatch):  # noqa: F811
    """A partition's worker promises the next phase's tasks: to this test's queue too."""
    monkeypatch.setenv("CELERY_DEFAULT_QUEUE", workers.queue)


def _finished(run_id: int) -> bool:
    return FanoutRun.objects.get(pk=run_id).finished_at is not None


def _scores() -> dict:
    return dict(ReputationScore.objects.values_list("user_id", "total"))


def _rankings() -> dict:
    return {
        s.solution_id: (s.fitness, s.rank, s.built_upon, s.components)
        for s in SolutionScore.objects.all()
    }


@pytest.mark.parametrize("n_workers", [1, 2])
def test_a_fanned_out_rebuild_and_rankings_equal_the_single_task(workers, n_workers):  # noqa: F811
    _build_facts(solutions=120, voters=5)
    baseline = ReputationEvent.objects.count()
    for _ in range(n_workers):
        workers.start()

    started = time.monotonic()
    run = partitions.start(partitions.REPUTATION, 4)  # published at once (autocommit)
    wait_until(lambda: _finished(run.pk), timeout=240, what="the fanned-out rebuild to finish")
    print(f"rebuild with {n_workers} worker(s): {time.monotonic() - started:.2f}s")
    run.refresh_from_db()
    assert run.result == ReputationEvent.objects.count() - baseline > 0
    assert not run.partitions.filter(done_at__isnull=True).exists()
    sums, scores = _ledger_sums(), _scores()

    # The single task finds nothing to correct and folds the same scores.
    assert ledger.sync_everything() == 0
    assert _ledger_sums() == sums
    assert _scores() == scores

    started = time.monotonic()
    run = partitions.start(partitions.RANKINGS, 3)
    wait_until(lambda: _finished(run.pk), timeout=240, what="the fanned-out rankings to finish")
    print(f"rankings with {n_workers} worker(s): {time.monotonic() - started:.2f}s")
    ranked = _rankings()
    assert ranked
    fitness.recompute_all()
    assert _rankings() == ranked


def test_a_partition_lost_with_a_killed_worker_is_run_again_and_the_run_finishes_once(
    workers,  # noqa: F811
):
    _build_facts(solutions=200, voters=6)
    baseline = ReputationEvent.objects.count()
    first = workers.start()
    run = partitions.start(partitions.REPUTATION, 6)
    wait_until(
        lambda: run.partitions.filter(done_at__isnull=False).exists(),
        timeout=120,
        what="the first partition to finish",
    )
    first.kill()
    first.wait(timeout=30)
    workers.start()
    # The sweep (beat, every minute) publishes again what the dead worker held, once its lease
    # is over: run here as if that time had passed, until the run is done.
    later = timezone.now() + outbox.lease() + outbox.GRACE

    def swept_and_finished() -> bool:
        outbox.outbox_sweep(now=later)
        return _finished(run.pk)

    wait_until(
        swept_and_finished, timeout=240, what="the run to finish after the kill", interval=0.5
    )
    run.refresh_from_db()
    assert run.result == ReputationEvent.objects.count() - baseline
    assert ledger.sync_everything() == 0
    assert FanoutRun.objects.filter(job=partitions.REPUTATION).count() == 1
