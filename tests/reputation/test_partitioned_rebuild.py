"""The fanned-out runs (reputation.partitions): a rebuild or rankings recompute split into any
number of partitions writes exactly what the single task writes, and a run advances and finishes
once however often its partitions run."""

import itertools

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from peerhub import outbox
from peerhub.models import OutboxTask
from reputation import fitness, ledger, partitions, tasks
from reputation.models import FanoutPartition, FanoutRun, ReputationEvent, SolutionScore
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import database_examples
from tests.reputation.test_set_based import (
    MEMBERS,
    add_review,
    add_vote,
    apply,
    build,
    change,
    forest,
    member,
    review,
    snapshot,
    trust_snapshot,
    vote,
)

pytestmark = pytest.mark.django_db


@database_examples("REP_EXAMPLES", 20)
@given(
    tree=forest,
    votes=st.lists(vote, max_size=25),
    reviews=st.lists(review, max_size=8),
    changes=st.lists(change, max_size=12),
    cap=st.sampled_from([20, 200]),
    low=st.none() | st.sets(member, max_size=3),
    parts=st.integers(min_value=1, max_value=7),
    synced_first=st.booleans(),
)
def test_a_partitioned_rebuild_writes_what_the_single_rebuild_writes(
    tree, votes, reviews, changes, cap, low, parts, synced_first
):
    with override_settings(PEERHUB_REPUTATION={"daily_vote_cap": cap}), transaction.atomic():
        members = UserFactory.create_batch(MEMBERS)
        solutions = build(tree, members)
        if low is not None:
            trust_snapshot(low, members)
        for spec in votes:
            add_vote(spec, members, solutions)
        for spec in reviews:
            add_review(spec, members, solutions)
        if synced_first:  # a ledger with corrections to make; else an empty one
            ledger.sync_everything()
        for op in changes:
            apply(op, members, solutions)

        with transaction.atomic():
            single = ledger.sync_everything()
            expected = snapshot()
            transaction.set_rollback(True)
        run = partitions.run_inline(partitions.REPUTATION, parts)

        assert snapshot() == expected
        assert run.result == single
        assert run.finished_at is not None
        # Nothing left to correct, partitioned or not.
        assert partitions.run_inline(partitions.REPUTATION, parts).result == 0
        assert ledger.sync_everything() == 0
        transaction.set_rollback(True)


def test_partitions_cover_every_id_once_and_weigh_votes():
    ranges = partitions._whole(partitions.split([1, 2, 3, 10, 11, 12], 3, {10: 100}))
    assert ranges[0][0] == 0 and ranges[-1][1] >= 2**62
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
    # The heavy solution's range holds little else.
    assert (10, 10) in partitions.split([1, 2, 3, 10, 11, 12], 3, {10: 100})
    assert partitions.split([], 4) == []
    assert partitions.split([5], 4) == [(5, 5)]


@given(
    ids=st.lists(st.integers(1, 10_000), unique=True, max_size=60).map(sorted),
    parts=st.integers(1, 12),
)
def test_split_ranges_are_consecutive_and_at_most_parts(ids, parts):
    ranges = partitions.split(ids, parts)
    assert len(ranges) <= parts
    covered = [pk for lo, hi in ranges for pk in ids if lo <= pk <= hi]
    assert covered == ids


def test_a_run_promises_each_partition_through_the_outbox():
    UserFactory.create_batch(4)
    run = partitions.start(partitions.REPUTATION, 3)
    ids = set(run.partitions.values_list("pk", flat=True))
    promised = OutboxTask.objects.filter(task=tasks.fanout_partition.name)
    assert {row.args[0] for row in promised} == ids
    # A second start while this one is unfinished joins it.
    assert partitions.start(partitions.REPUTATION, 3).pk == run.pk


def test_a_partition_run_twice_does_its_step_once_and_the_run_finishes_once():
    author, voter = UserFactory.create_batch(2)
    tasks_vote(make_solution(author=author), voter, 1)
    run = partitions.start(partitions.REPUTATION, 2)
    first_phase = list(run.partitions.order_by("pk").values_list("pk", flat=True))
    assert all(partitions.run_partition(pk) for pk in first_phase)
    assert not any(partitions.run_partition(pk) for pk in first_phase)
    run.refresh_from_db()
    assert run.phase == 2
    second = list(run.partitions.filter(phase=2).values_list("pk", flat=True))
    for pk in second:
        partitions.run_partition(pk)
    run.refresh_from_db()
    finished = run.finished_at
    assert finished is not None
    # A partition delivered again after the end changes nothing; the finish is not repeated.
    assert not partitions.run_partition(second[0])
    partitions._done(second[0])
    run.refresh_from_db()
    assert run.finished_at == finished
    assert FanoutPartition.objects.filter(run=run, phase=3).count() == 0
    announce = OutboxTask.objects.filter(task=tasks.announce_trust_levels.name)
    assert announce.count() == 1
    assert run.result == ReputationEvent.objects.count()


def test_a_lost_partition_is_run_again_by_the_outbox_sweep(commit):
    """A partition published to a worker that died: its outbox row stays, and the sweep
    publishes it again once its lease is over (eagerly here)."""
    UserFactory.create_batch(3)
    run = partitions.start(partitions.REPUTATION, 2)  # in the test's transaction: none ran
    assert FanoutRun.objects.get(pk=run.pk).finished_at is None
    later = outbox.timezone.now() + outbox.lease() + outbox.GRACE
    for _round in range(3):  # phase 1, phase 2, then the announcement
        commit(outbox.outbox_sweep, now=later)
    run.refresh_from_db()
    assert run.finished_at is not None
    assert not OutboxTask.objects.filter(task=tasks.fanout_partition.name).exists()


def test_an_old_unfinished_run_is_given_up_and_a_new_one_starts():
    run = partitions.start(partitions.REPUTATION, 2)
    FanoutRun.objects.filter(pk=run.pk).update(started_at=run.started_at - partitions.ABANDON_AFTER)
    fresh = partitions.start(partitions.REPUTATION, 2)
    assert fresh.pk != run.pk
    assert FanoutRun.objects.get(pk=run.pk).finished_at is not None


def test_member_range_steps_run_per_member_partition(monkeypatch):
    seen = []
    UserFactory.create_batch(5)
    monkeypatch.setattr(
        partitions, "MEMBER_RANGE_STEPS", [*partitions.MEMBER_RANGE_STEPS, _record(seen)]
    )
    partitions.run_inline(partitions.REPUTATION, 3)
    assert len(seen) == 3
    assert seen[0][0] == 0 and seen[-1][1] >= 2**62


def _record(seen):
    def step(first_id, last_id):
        seen.append((first_id, last_id))

    return step


def test_partitioned_rankings_equal_the_full_recompute():
    voters = UserFactory.create_batch(6)
    for n in range(5):
        challenge = ChallengeFactory()
        root = make_solution(challenge, voters[n])
        fork = make_fork(root, voters[(n + 1) % 6])
        for i, voter in enumerate(voters):
            tasks_vote(root if i % 2 else fork, voter, 1 if i % 3 else -1)
    fitness.recompute_all()
    expected = {
        s.solution_id: (s.fitness, s.rank, s.built_upon, s.components)
        for s in SolutionScore.objects.all()
    }
    SolutionScore.objects.all().delete()
    run = partitions.run_inline(partitions.RANKINGS, 3)
    assert {
        s.solution_id: (s.fitness, s.rank, s.built_upon, s.components)
        for s in SolutionScore.objects.all()
    } == expected
    assert run.result == len(expected)


def tasks_vote(solution, voter, value):
    from reputation.models import Vote

    Vote.objects.update_or_create(solution=solution, voter=voter, defaults={"value": value})


def test_unknown_job_is_refused():
    with pytest.raises(ValueError):
        partitions.start("everything", 2)


def test_the_commands_take_partitions():
    from io import StringIO

    from django.core.management import CommandError, call_command

    author, voter = UserFactory.create_batch(2)
    tasks_vote(make_solution(author=author), voter, 1)
    out = StringIO()
    call_command("recompute_reputation", "--partitions", "3", stdout=out)
    assert "Appended" in out.getvalue()
    assert FanoutRun.objects.filter(job=partitions.REPUTATION, finished_at__isnull=False).exists()
    call_command("recompute_reputation", "--partitions", "2", "--check", stdout=StringIO())
    call_command("recompute_rankings", "--partitions", "2", stdout=StringIO())
    assert FanoutRun.objects.filter(job=partitions.RANKINGS, finished_at__isnull=False).exists()
    with pytest.raises(CommandError):
        call_command("recompute_reputation", "--partitions", "0")


def test_the_beat_tasks_start_a_run_of_the_configured_size(settings):
    settings.PEERHUB_FANOUT_PARTITIONS = 2
    UserFactory.create_batch(4)
    run = FanoutRun.objects.get(pk=tasks.recompute_reputation_partitioned())
    assert run.params["partitions"] == 2
    run = FanoutRun.objects.get(pk=tasks.recompute_all_rankings_partitioned(3))
    assert run.job == partitions.RANKINGS and run.params["partitions"] == 3
