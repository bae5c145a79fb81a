"""The long jobs fanned out over workers (issue 17): the nightly reputation rebuild and the full
rankings recompute, split into partitions over ranges of ids, each one task.

    start(job, partitions)   a FanoutRun and its first phase's partitions; each partition is
                             promised through the outbox (peerhub.outbox), so one lost with a
                             worker is published again by the sweep and runs again
    run_partition(id)        does the partition's step (idempotent: it re-derives from facts),
                             then marks it done under the run's lock; the last one of a phase
                             starts the next phase, the last one of the last phase finishes the
                             run, each exactly once (a conditional update on the locked row)

The reputation rebuild has two phases: the lines (ranges of solutions, weighed by their votes,
and one partition for signatures and other apps' sources), then the scores (ranges of members:
each `MEMBER_RANGE_STEPS` step: the range's board rows checked and mended, then its scores
folded from them). A score folds only its member's lines, and a
solution's lines derive only from its own facts, so the partitions together write exactly what
the single task writes (tests/reputation/test_partitioned_rebuild.py). Rankings have one phase,
ranges of challenges, each measured `fitness.BATCH_CHALLENGES` at a time as `recompute_all`
does.

Why the outbox and not a Celery chord: a chord's counter lives in the result backend and a
partition lost with a worker (without acks_late) is never retried, so the chord never fires;
here the promise is a row in the same database as the work, and the run's own row counts."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from challenges.models import Challenge, Solution
from peerhub import bulk
from peerhub.models import User

from . import fitness, ledger, trust
from .models import (
    FanoutPartition,
    FanoutRun,
    ReputationDay,
    ReputationEvent,
    SolutionScore,
    Vote,
)

logger = logging.getLogger(__name__)

REPUTATION, RANKINGS = "reputation", "rankings"
# An unfinished run this old is given up (a partition that failed for good) and a new one
# starts; a younger one is left to finish, so a second start joins it.
ABANDON_AFTER = timedelta(hours=20)

# Run per member range in the rebuild's second phase, in order, as `step(first_id, last_id)`:
# the range's board rows checked and mended and its scores folded from them, as
# `sync_everything` does for all.
MEMBER_RANGE_STEPS: list[Callable[[int, int], object]] = [ledger.fold_member_range]


def default_partitions() -> int:
    from django.conf import settings

    return getattr(settings, "PEERHUB_FANOUT_PARTITIONS", 8)


def split(ids: list[int], parts: int, weights: dict[int, int] | None = None) -> list[tuple]:
    """Consecutive ranges (first, last) of the sorted `ids`, at most `parts` of them, each
    holding about the same weight (1 per id, plus `weights[id]`): votes crowd on a few
    solutions, and a partition's cost is its votes."""
    if not ids:
        return []
    parts = max(1, min(parts, len(ids)))
    weights = weights or {}
    total = sum(1 + weights.get(pk, 0) for pk in ids)
    ranges, first, last, held = [], None, None, 0
    for pk in ids:
        weight = 1 + weights.get(pk, 0)
        boundary = total * (len(ranges) + 1) / parts
        # Close the range before a heavy id when taking it would overshoot more than stopping.
        if (
            first is not None
            and len(ranges) < parts - 1
            and held + weight - boundary > (boundary - held)
        ):
            ranges.append((first, last))
            first = None
        first = pk if first is None else first
        held, last = held + weight, pk
        if len(ranges) < parts - 1 and held >= total * (len(ranges) + 1) / parts and pk != ids[-1]:
            ranges.append((first, pk))
            first = None
    if first is not None:
        ranges.append((first, last))
    return ranges


def _whole(ranges: list[tuple]) -> list[tuple]:
    """The ranges stretched to cover every id: the first from 0, the last to the largest id
    there may ever be, the others up to the next's first; rows made during the run land in
    one."""
    if not ranges:
        return [(0, 2**62)]
    stretched = []
    for index, (_first, last) in enumerate(ranges):
        first = 0 if index == 0 else stretched[-1][1] + 1
        last = 2**62 if index == len(ranges) - 1 else ranges[index + 1][0] - 1
        stretched.append((first, last))
    return stretched


def solution_ranges(parts: int) -> list[tuple]:
    ids = list(Solution.objects.order_by("pk").values_list("pk", flat=True))
    votes = dict(
        Vote.objects.values("solution_id").annotate(n=Count("id")).values_list("solution_id", "n")
    )
    return _whole(split(ids, parts, votes))


def member_ranges(parts: int) -> list[tuple]:
    return _whole(split(list(User.objects.order_by("pk").values_list("pk", flat=True)), parts))


def challenge_ranges(parts: int) -> list[tuple]:
    return _whole(split(list(Challenge.objects.order_by("pk").values_list("pk", flat=True)), parts))


# --- Runs ---------------------------------------------------------------------------------------


def _plan(run: FanoutRun, phase: int) -> list[tuple[str, int, int]] | None:
    """The partitions (step, first, last) of a run's phase; None past its last phase."""
    parts = run.params["partitions"]
    if run.job == REPUTATION and phase == 1:
        return [("solutions", lo, hi) for lo, hi in solution_ranges(parts)] + [("sources", 0, 0)]
    if run.job == REPUTATION and phase == 2:
        return [("members", lo, hi) for lo, hi in member_ranges(parts)]
    if run.job == RANKINGS and phase == 1:
        return [("challenges", lo, hi) for lo, hi in challenge_ranges(parts)]
    return None


def _promise(run: FanoutRun, phase: int) -> bool:
    """Record the phase's partitions and promise each one's task; False past the last phase."""
    from peerhub import outbox

    from . import tasks

    plan = _plan(run, phase)
    if plan is None:
        return False
    partitions = FanoutPartition.objects.bulk_create(
        [
            FanoutPartition(run=run, phase=phase, step=step, first_id=lo, last_id=hi)
            for step, lo, hi in plan
        ]
    )
    for partition in partitions:
        outbox.enqueue(tasks.fanout_partition, partition.pk)
    return True


@transaction.atomic
def start(job: str, partitions: int) -> FanoutRun:
    """A run of `job` over about `partitions` partitions per phase, or the unfinished one
    already under way (younger than `ABANDON_AFTER`). The tasks go out after commit."""
    if job not in (REPUTATION, RANKINGS):
        raise ValueError(f"unknown job {job!r}")
    now = timezone.now()
    # One start at a time per job: the open runs of the job are read under a lock.
    open_runs = FanoutRun.objects.select_for_update().filter(job=job, finished_at__isnull=True)
    for run in open_runs.order_by("pk"):
        if run.started_at > now - ABANDON_AFTER:
            return run
        logger.error("fanout: %s abandoned unfinished after %s", run, now - run.started_at)
        FanoutRun.objects.filter(pk=run.pk).update(finished_at=now)
    params = {"partitions": max(1, int(partitions))}
    if job == REPUTATION:
        # A single-task rebuild cut short while the ledger's foreign keys were away: back first.
        bulk.restore(ReputationEvent)
        bulk.restore(ReputationDay)
        # Every partition reads the same snapshot; the lines appended after this one count.
        params |= {"snapshot_id": trust.latest_snapshot_id(), "before": ledger.last_line_id()}
    run = FanoutRun.objects.create(job=job, params=params, started_at=now)
    _promise(run, 1)
    return run


def run_partition(partition_id: int) -> bool:
    """Do one partition's step unless it is done already, then mark it done (see `_done`).
    Returns whether it did the step."""
    partition = FanoutPartition.objects.select_related("run").filter(pk=partition_id).first()
    if partition is None or partition.done_at is not None or partition.run.finished_at:
        return False
    run, lo, hi = partition.run, partition.first_id, partition.last_id
    if partition.step == "solutions":
        ledger.rebuild_solution_range(lo, hi, snapshot_id=run.params.get("snapshot_id"))
    elif partition.step == "sources":
        ledger.rebuild_sources()
    elif partition.step == "members":
        for step in MEMBER_RANGE_STEPS:
            step(lo, hi)
    elif partition.step == "challenges":
        ids = list(
            Challenge.objects.filter(pk__range=(lo, hi)).order_by("pk").values_list("pk", flat=True)
        )
        for first in range(0, len(ids), fitness.BATCH_CHALLENGES):
            fitness._recompute(ids[first : first + fitness.BATCH_CHALLENGES])
    else:
        raise ValueError(f"unknown step {partition.step!r}")
    _done(partition_id)
    return True


@transaction.atomic
def _done(partition_id: int) -> None:
    """Mark a partition done under its run's lock, so that of two partitions ending at once
    exactly one sees its phase complete; that one promises the next phase, or finishes the
    run. A partition run twice finds itself done and changes nothing."""
    run_id = FanoutPartition.objects.values_list("run_id", flat=True).get(pk=partition_id)
    run = FanoutRun.objects.select_for_update().get(pk=run_id)
    marked = FanoutPartition.objects.filter(pk=partition_id, done_at__isnull=True).update(
        done_at=timezone.now()
    )
    if not marked or run.finished_at is not None:
        return
    if run.partitions.filter(phase=run.phase, done_at__isnull=True).exists():
        return
    if _promise(run, run.phase + 1):
        FanoutRun.objects.filter(pk=run.pk).update(phase=run.phase + 1)
        return
    _finish(run)


def _finish(run: FanoutRun) -> None:
    """The run's last partition is done (called once, under the run's lock): its result, and
    the work that follows it, promised."""
    from peerhub import outbox

    from . import tasks

    if run.job == REPUTATION:
        before = run.params.get("before", 0)
        run.result = ReputationEvent.objects.filter(pk__gt=before).count()
        if run.result > 10_000:
            ledger._analyze_if_stale(ReputationEvent, force=True)
        outbox.enqueue(tasks.announce_trust_levels)
    else:
        run.result = SolutionScore.objects.count()
    run.finished_at = timezone.now()
    run.save(update_fields=["result", "finished_at"])


def run_inline(job: str, partitions: int) -> FanoutRun:
    """A whole run in this process, partition after partition (tests, a command without
    workers): the same partitions the workers would run, in the same phases."""
    with transaction.atomic():
        run = start(job, partitions)
    while True:
        run.refresh_from_db()
        if run.finished_at is not None:
            return run
        pending = list(
            run.partitions.filter(done_at__isnull=True)
            .order_by("phase", "pk")
            .values_list("pk", flat=True)
        )
        if not pending:
            raise RuntimeError(f"{run} has no partition left but did not finish")
        for partition_id in pending:
            run_partition(partition_id)


def run_and_wait(job: str, parts: int, *, poll: float = 1.0) -> FanoutRun:
    """A run for the commands: in this process with eager tasks (the embedded default),
    otherwise started for the workers and waited for."""
    import time

    from peerhub.celery import app

    if app.conf.task_always_eager:
        return run_inline(job, parts)
    run = start(job, parts)
    while run.finished_at is None:
        time.sleep(poll)
        run.refresh_from_db()
    return run
