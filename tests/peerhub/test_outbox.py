"""The transactional outbox (peerhub.outbox): work a committed fact promises is recorded with
the fact, published after commit, kept while the broker is down, published again by the sweep
when it is lost or its worker died, and removed once it succeeded; a rolled-back fact promises
nothing."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from peerhub import outbox, tasks
from peerhub.celery import app as current_app
from peerhub.models import OutboxTask
from reputation import ledger
from reputation import services as reputation_services
from reputation.models import ReputationEvent, Vote
from tests.factories import UserFactory, make_solution
from tests.helpers import after_commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(monkeypatch):
    """Tasks go to a broker (not eager); `broker.up` decides whether it takes them."""
    state = SimpleNamespace(up=True, sent=[])

    def send_task(name, args=None, kwargs=None, countdown=None, headers=None):
        if not state.up:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        state.sent.append((name, tuple(args or ()), headers[outbox.HEADER]))

    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    monkeypatch.setattr(current_app, "send_task", send_task)
    yield state
    current_app.conf.task_always_eager = previous


def worker_runs(sent):
    """Play the worker: run each published task, with the outbox header, as a worker would."""
    for name, args, row_id in sent:
        current_app.conf.task_always_eager = True
        try:
            current_app.tasks[name].apply(args=args, headers={outbox.HEADER: row_id})
        finally:
            current_app.conf.task_always_eager = False
    sent.clear()


def test_a_rolled_back_fact_promises_nothing():
    with after_commit() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(tasks.purge_stale_unverified_accounts)
        raise RuntimeError("the request failed later")
    assert callbacks == []
    assert not OutboxTask.objects.exists()


def test_an_eager_promise_runs_after_commit_and_leaves_no_row():
    solution = make_solution()
    voter = UserFactory()
    OutboxTask.objects.all().delete()  # what building the solution promised
    with after_commit():
        reputation_services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert ReputationEvent.objects.filter(beneficiary=solution.author).exists()
    assert not OutboxTask.objects.exists()


def test_with_the_broker_down_the_vote_succeeds_and_the_sweep_delivers_its_work(broker):
    solution = make_solution()
    OutboxTask.objects.all().delete()  # what building the solution promised
    broker.up = False
    with after_commit():
        vote = reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=1)
    assert Vote.objects.filter(pk=vote.pk).exists()
    rows = list(OutboxTask.objects.order_by("task"))
    assert [row.task for row in rows] == [
        "reputation.tasks.rankings_after_change",
        "reputation.tasks.sync_vote_reputation",
    ]
    assert all(row.attempts == 1 and "Connection refused" in row.last_error for row in rows)
    assert not ReputationEvent.objects.filter(beneficiary=solution.author).exists()

    broker.up = True
    assert outbox.outbox_sweep() == 0  # nothing is due yet: the retry waits its backoff
    later = timezone.now() + timedelta(minutes=2)
    assert outbox.outbox_sweep(now=later) == 2
    worker_runs(broker.sent)
    assert ReputationEvent.objects.filter(beneficiary=solution.author).exists()
    # What the first tasks promised (the rankings recompute) went through the outbox too.
    assert OutboxTask.objects.filter(task="reputation.tasks.sync_vote_reputation").count() == 0
    assert OutboxTask.objects.filter(task="reputation.tasks.rankings_after_change").count() == 0
    assert ledger.sync_everything() == 0  # a full rebuild finds nothing to correct


def test_a_task_whose_worker_died_is_published_again_after_its_lease(broker):
    with after_commit():
        row = outbox.enqueue(tasks.purge_stale_unverified_accounts)
    assert len(broker.sent) == 1
    broker.sent.clear()  # the worker took it and was killed: no success, the row stays
    row.refresh_from_db()
    assert row.attempts == 1
    assert outbox.outbox_sweep(now=timezone.now() + timedelta(minutes=1)) == 0  # within lease
    assert outbox.outbox_sweep(now=timezone.now() + outbox.lease() + timedelta(seconds=1)) == 1
    worker_runs(broker.sent)
    assert not OutboxTask.objects.exists()


def test_a_fresh_row_waits_for_the_relay_before_the_sweep_takes_it(broker):
    """The sweep must not race the after-commit relay of a row just written."""
    row = outbox.enqueue(tasks.purge_stale_unverified_accounts)  # in the test's transaction
    assert outbox.outbox_sweep() == 0
    assert outbox.outbox_sweep(now=row.created_at + outbox.GRACE + timedelta(seconds=1)) == 1


def test_the_relay_and_the_sweep_publish_a_row_once_at_a_time(broker):
    row = outbox.enqueue(tasks.purge_stale_unverified_accounts)
    now = timezone.now() + timedelta(minutes=5)
    assert outbox.publish(row.pk, now=now) is True
    assert outbox.outbox_sweep(now=now) == 0
    assert len(broker.sent) == 1


def test_a_failing_task_is_retried_with_a_backoff_then_given_up(monkeypatch, settings):
    settings.PEERHUB_OUTBOX = {"max_attempts": 3}
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("the SMTP server is down")

    monkeypatch.setattr(tasks.purge_stale_unverified_accounts, "run", broken)
    with after_commit():
        row = outbox.enqueue(tasks.purge_stale_unverified_accounts)
    row.refresh_from_db()
    assert row.attempts == 1 and "SMTP" in row.last_error and not row.failed
    first_retry = row.next_attempt_at
    now = timezone.now()
    for _ in range(4):
        now += timedelta(hours=2)
        outbox.outbox_sweep(now=now)
    row.refresh_from_db()
    assert len(calls) == 3 and row.failed and row.attempts == 3
    assert first_retry - timezone.now() < timedelta(minutes=1)
    assert outbox.outbox_backlog()["failed"] == 1


def test_notifications_are_promised_with_their_fact_and_delivered_once():
    from peerhub.models import Notification
    from peerhub.notifications import notify

    recipient = UserFactory()
    with after_commit():
        with transaction.atomic():
            notify("payout_sent", [recipient], context={"amount": "1.00 EUR"}, key="x")
        assert not Notification.objects.exists()  # not before the commit
    assert Notification.objects.filter(recipient=recipient).count() == 1
    # Delivered twice (a republished task), still one notification.
    payload = {"kind": "payout_sent", "recipient_ids": [recipient.pk], "actor_id": None,
               "target_type_id": None, "target_id": None, "url": "", "text": "t",
               "dedupe_key": "-:-:x"}  # fmt: skip
    tasks.deliver_notifications(payload)
    assert Notification.objects.filter(recipient=recipient).count() == 1
    assert not OutboxTask.objects.exists()


def test_a_sync_the_database_refused_for_a_moment_is_retried(monkeypatch):
    """A deadlock or a serialization failure is an OperationalError: the sync runs again."""
    from django.db import OperationalError

    from reputation import tasks as reputation_tasks

    calls = []
    real = ledger.sync_vote

    def flaky(solution_id, voter_id):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(solution_id, voter_id)

    monkeypatch.setattr(ledger, "sync_vote", flaky)
    solution = make_solution()
    vote = Vote.objects.create(solution=solution, voter=UserFactory(), value=1)
    result = reputation_tasks.sync_vote_reputation.apply(
        args=(solution.pk, vote.voter_id), throw=False
    )
    assert result.successful() and len(calls) == 2
    assert ReputationEvent.objects.filter(beneficiary=solution.author).exists()


def test_beat_starts_the_long_jobs_as_promises_that_a_killed_worker_cannot_lose(broker):
    """The nightly and weekly rebuilds, the full rankings and trust are promised through the
    outbox: the row stays until the job succeeds, so one killed mid-run is published again by
    the sweep."""
    from django.conf import settings

    long_jobs = {
        "reputation.tasks.recompute_reputation",
        "reputation.tasks.recompute_reputation_whole",
        "reputation.tasks.recompute_all_rankings",
        "reputation.tasks.compute_trust",
    }
    scheduled = {
        entry["args"][0]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "peerhub.tasks.promise"
    }
    assert scheduled == long_jobs
    with after_commit():
        tasks.promise("reputation.tasks.recompute_reputation")
    assert [name for name, _args, _row in broker.sent] == ["reputation.tasks.recompute_reputation"]
    broker.sent.clear()  # the worker took it and was killed mid-rebuild
    assert outbox.outbox_sweep(now=timezone.now() + outbox.lease() + timedelta(seconds=1)) == 1
    worker_runs(broker.sent)
    assert not OutboxTask.objects.exists()
