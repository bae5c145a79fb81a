"""A transactional outbox: the work a committed fact promises, never lost to a broker outage
or a killed worker.

    enqueue(task, *args)  in the fact's transaction: one row (OutboxTask)
    after commit          the relay publishes it to Celery, with the row's id in a header
    task succeeds         the worker deletes the row (task_success below)
    anything else         the row stays; outbox_sweep (beat, every minute) publishes it again
                          once it is due: after a grace for the relay, a lease for the worker,
                          or a backoff after a failed publication

So a write answers success once its fact is committed, whether or not the broker is up, and
every promised task runs at least once; the tasks are idempotent (each re-derives its result
from the facts), so a second run changes nothing. With eager tasks (the embedded default) the
relay runs the task at once and the row is gone when the request ends.

Why not a package: the outbox packages on the index either target Kafka/RabbitMQ event streams
or are young single-maintainer projects; this is one small table and two functions that use
Celery as it is."""

import logging
from datetime import datetime, timedelta

from celery import signals
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxTask

logger = logging.getLogger(__name__)

HEADER = "peerhub_outbox_id"
# The relay publishes right after commit; the sweep leaves a fresh row alone this long.
GRACE = timedelta(seconds=60)
RETRY_PUBLISH = timedelta(seconds=30)


def lease() -> timedelta:
    """How long a published task may take before the sweep publishes it again: the longest a
    task may run (Celery's time limit), and a minute's margin."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def max_attempts() -> int:
    return settings.PEERHUB_OUTBOX["max_attempts"]


def enqueue(task, *args, countdown: float = 0, **kwargs) -> OutboxTask:
    """Promise `task(*args, **kwargs)` in the current transaction: recorded now, published
    after commit (`countdown` seconds later at the earliest). A rolled-back transaction takes
    the promise with it."""
    from .observability import request_id

    row = OutboxTask.objects.create(
        task=task.name,
        args=list(args),
        kwargs=kwargs,
        next_attempt_at=timezone.now() + GRACE + timedelta(seconds=countdown),
        request_id=request_id.get(),
    )
    row_id = row.pk
    transaction.on_commit(lambda: publish(row_id, countdown=countdown), robust=True)
    return row


def publish(row_id: int, *, countdown: float = 0, now: datetime | None = None) -> bool:
    """Hand one row's task to Celery. The row is claimed first (a conditional UPDATE that moves
    `next_attempt_at` a lease ahead), so the relay and the sweep never publish it twice at once.
    A broker that refuses is logged and the row kept for the sweep; nothing is raised."""
    from .celery import app as current_app

    if current_app.conf.task_always_eager:
        return _run_eagerly(row_id)
    now = now or timezone.now()
    row = OutboxTask.objects.filter(pk=row_id, failed=False).first()
    if row is None:
        return False
    claimed = OutboxTask.objects.filter(pk=row_id, failed=False, attempts=row.attempts).update(
        attempts=F("attempts") + 1,
        next_attempt_at=now + lease() + timedelta(seconds=countdown),
        published_at=now,
    )
    if not claimed:
        return False
    try:
        current_app.send_task(
            row.task,
            args=row.args,
            kwargs=row.kwargs,
            countdown=countdown or None,
            headers=_headers(row),
        )
    except Exception as error:  # the broker is down or refused: the sweep publishes it later
        logger.warning("outbox: publishing %s (%s) failed: %s", row.task, row_id, error)
        _attempt_failed(row_id, row.attempts + 1, error, now)
        return False
    return True


def _run_eagerly(row_id: int) -> bool:
    """Eager tasks (the embedded default, tests): run now, in this process; on success the
    row goes (task_success), on failure it stays for the sweep (task_failure)."""
    from .celery import app as current_app

    row = OutboxTask.objects.filter(pk=row_id, failed=False).first()
    if row is None:
        return False
    OutboxTask.objects.filter(pk=row_id).update(attempts=F("attempts") + 1)
    current_app.tasks[row.task].apply(
        args=row.args, kwargs=row.kwargs, headers=_headers(row), throw=False
    )
    return True


def _headers(row: OutboxTask) -> dict:
    """The row's id (the worker deletes the row on success) and the id of the request that
    made the promise (its log lines in the worker carry it: peerhub.observability)."""
    from .observability import TASK_HEADER

    return {HEADER: row.pk, TASK_HEADER: row.request_id}


def _attempt_failed(row_id: int, attempts: int, error: Exception, now: datetime) -> None:
    gave_up = attempts >= max_attempts()
    OutboxTask.objects.filter(pk=row_id).update(
        last_error=(str(error) or type(error).__name__)[:300],
        next_attempt_at=now + min(RETRY_PUBLISH * 2 ** max(attempts - 1, 0), timedelta(hours=1)),
        failed=gave_up,
    )
    if gave_up:
        logger.error("outbox: %s (%s) failed after %s attempts", row_id, error, attempts)


def _row_id(request) -> int | None:
    """The outbox row a running task came from, whether the header arrived as a request
    attribute (a worker) or in `headers` (an eager call)."""
    value = getattr(request, HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(HEADER)
    return int(value) if value is not None else None


@signals.task_success.connect(dispatch_uid="peerhub-outbox-done")
def _done(sender=None, **kwargs) -> None:
    row_id = _row_id(sender.request) if sender is not None else None
    if row_id is not None:
        OutboxTask.objects.filter(pk=row_id).delete()


@signals.task_failure.connect(dispatch_uid="peerhub-outbox-failed")
def _failed(sender=None, exception=None, **kwargs) -> None:
    """A task that failed for good (its own retries spent) is published again after a backoff,
    up to the outbox's attempts; the error is kept for operators."""
    row_id = _row_id(sender.request) if sender is not None else None
    if row_id is None:
        return
    row = OutboxTask.objects.filter(pk=row_id).first()
    if row is not None:
        _attempt_failed(row_id, row.attempts, exception or Exception("failed"), timezone.now())


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish every row that is due: lost by the broker, stranded by a killed worker, or
    waiting for a retry. Returns how many it published."""
    now = now or timezone.now()
    due = OutboxTask.objects.filter(failed=False, next_attempt_at__lte=now).order_by(
        "next_attempt_at"
    )
    published = 0
    for row_id in list(due.values_list("pk", flat=True)[:limit]):
        published += publish(row_id, now=now)
    return published


def outbox_backlog() -> dict[str, int]:
    """For health pages and metrics: rows waiting, overdue (past their lease), and given up."""
    now = timezone.now()
    waiting = OutboxTask.objects.filter(failed=False)
    return {
        "waiting": waiting.count(),
        "overdue": waiting.filter(next_attempt_at__lt=now - timedelta(minutes=5)).count(),
        "failed": OutboxTask.objects.filter(failed=True).count(),
    }
