"""The debounced rankings recompute through a real Celery worker (Redis broker and cache,
PostgreSQL): fifty votes committed within a second queue fifty `rankings_after_change` tasks,
and the worker runs exactly one recompute per challenge."""

import time

import pytest
import redis
from django.conf import settings

from peerhub import settings as project_settings
from peerhub.celery import app as celery_app
from reputation import tasks
from reputation.models import SolutionScore, Vote
from tests.factories import ChallengeFactory, UserFactory, make_solution

from .test_reputation_worker import wait_until, workers  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.services, pytest.mark.real_worker]


def ups(solution) -> int:
    row = SolutionScore.objects.filter(solution=solution).first()
    return row.components["votes"]["up"] if row else -1


def test_fifty_votes_make_one_recompute_per_challenge_in_the_worker(workers, tmp_path):  # noqa: F811
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the setup's own recomputes run here
    try:
        targets = [make_solution(ChallengeFactory()), make_solution(ChallengeFactory())]
        voters = UserFactory.create_batch(25)
    finally:
        celery_app.conf.task_always_eager = previous
    # The worker's cache prefix is the settings' own (this process has a per-test one): drop
    # add-locks a lost task of an earlier run may have left for these challenge ids.
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = project_settings.CACHES["default"].get("KEY_PREFIX", "")
    for target in targets:
        client.delete(f"{prefix}:1:{tasks.RANKINGS_PENDING.format(target.challenge_id)}")
    # Tasks that tasks queue (the debounced recompute) go to the worker's default queue: this
    # test's own, so that its worker consumes them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELERY_DEFAULT_QUEUE", workers.queue)
        workers.start()

    started = time.monotonic()
    for voter in voters:
        for target in targets:
            Vote.objects.create(solution=target, voter=voter, value=1)  # commits: autocommit
    print(f"50 votes committed in {time.monotonic() - started:.2f}s")

    wait_until(
        lambda: all(ups(target) == 25 for target in targets),
        timeout=90,
        what="the worker to recompute both challenges",
    )
    time.sleep(8)  # longer than the debounce: a second recompute would have run by now
    log = (tmp_path / "worker0.log").read_text()
    runs = [line for line in log.splitlines() if "] succeeded in " in line]
    after_change = sum("tasks.rankings_after_change[" in line for line in runs)
    recomputes = sum("tasks.recompute_challenge_rankings[" in line for line in runs)
    assert after_change >= 50
    assert recomputes == 2, log[-3000:]
