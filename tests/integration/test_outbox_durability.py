"""Nothing a committed fact promises is lost, on PostgreSQL with a real Redis broker and real
Celery workers: with the broker stopped, API writes (a vote, a fork, a comment that notifies)
answer success and their work waits in the outbox; once the broker is back the sweep publishes
it and a worker does it, once. A worker killed with SIGKILL in the middle of a burst of votes
strands nothing: the sweep publishes again what it held, and a fresh worker converges. Each
ends with a full ledger rebuild that finds nothing to correct."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from peerhub import outbox
from peerhub.models import Notification, OutboxTask
from reputation import ledger
from reputation import services as reputation_services
from reputation.models import ReputationEvent, Vote
from tests.factories import UserFactory, make_solution
from tests.helpers import wait_until

from .conftest import use_broker

pytestmark = [pytest.mark.services, pytest.mark.real_worker]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def sweep_later() -> int:
    """The beat's sweep, run as if its period and every lease had passed."""
    return outbox.outbox_sweep(now=timezone.now() + outbox.lease() + timedelta(minutes=2))


def test_writes_while_the_broker_is_down_succeed_and_their_work_is_done_once_it_is_back(
    broker, start_worker
):
    solution = make_solution()
    author = solution.author
    voter, forker = UserFactory(), UserFactory()
    OutboxTask.objects.all().delete()  # the set-up's own promises are not under test
    broker.stop()

    voted = api(voter).post(f"/api/solutions/{solution.pk}/vote/", {"value": 1}, format="json")
    forked = api(forker).post(f"/api/solutions/{solution.pk}/fork/", {}, format="json")
    # More than a copy (a copy earns its parent no "forked" line): the forker rewrites it.
    revised = api(forker).patch(
        f"/api/solutions/{forked.data['id']}/",
        {"body": "A different design: a float switch wired to a siren, tested on two rivers."},
        format="json",
    )
    assert revised.status_code == 200, revised.content
    commented = api(voter).post(
        "/api/comments/", {"solution": solution.pk, "body": "Tried it: works."}, format="json"
    )

    assert voted.status_code in (200, 201), voted.content
    assert forked.status_code == 201, forked.content
    assert commented.status_code == 201, commented.content
    assert Vote.objects.filter(solution=solution, voter=voter).exists()
    waiting = set(OutboxTask.objects.values_list("task", flat=True))
    assert {"reputation.tasks.sync_vote_reputation", "reputation.tasks.sync_solution_reputation",
            "peerhub.tasks.deliver_notifications"} <= waiting  # fmt: skip
    assert not ReputationEvent.objects.filter(beneficiary=author).exists()

    broker.start()
    use_broker(broker.url)
    start_worker(broker.url)
    wait_until(
        lambda: sweep_later() == 0 and not OutboxTask.objects.exists(),
        timeout=120,
        what="the worker to do every promised task",
        interval=0.5,
    )
    assert ReputationEvent.objects.filter(beneficiary=author, fact_key__startswith="up:").count()
    assert ReputationEvent.objects.filter(beneficiary=author, fact_key__startswith="fork").count()
    heard = Notification.objects.filter(recipient=author)
    assert heard.count() == heard.values("kind", "dedupe_key").distinct().count() >= 2
    assert ledger.sync_everything() == 0


def test_a_worker_killed_mid_burst_strands_nothing(broker, start_worker):
    solutions = [make_solution() for _ in range(3)]
    voters = [UserFactory() for _ in range(12)]
    OutboxTask.objects.all().delete()
    worker = start_worker(broker.url)
    for voter in voters:
        for solution in solutions:
            reputation_services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    promised = 2 * len(voters) * len(solutions)
    wait_until(
        lambda: OutboxTask.objects.count() < promised - 5,
        timeout=60,
        what="the worker to get going",
        interval=0.02,
    )
    os.kill(worker.pid, signal.SIGKILL)  # the whole worker, mid-burst
    worker.wait(timeout=20)
    assert OutboxTask.objects.exists(), "the worker finished before it could be killed"

    start_worker(broker.url)
    wait_until(
        lambda: sweep_later() == 0 and not OutboxTask.objects.exists(),
        timeout=180,
        what="a fresh worker to finish what the killed one held",
        interval=0.5,
    )
    for solution in solutions:
        upvotes = ReputationEvent.objects.filter(
            beneficiary=solution.author, fact_key__startswith=f"up:{solution.pk}:"
        )
        assert upvotes.count() == len(voters)
    assert ledger.sync_everything() == 0
