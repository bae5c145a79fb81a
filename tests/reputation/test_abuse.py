"""Serial voting: detected by the periodic job, reversed through the ledger with noted lines."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from reputation import abuse, ledger, presenters, services, tasks
from reputation.models import ReputationEvent, ReputationScore, Vote
from reputation.rules import SERIAL_VOTING_NOTE
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

# Transactional: ledger syncs run on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

Kind = ReputationEvent.Kind


def score(user) -> Decimal:
    row = ReputationScore.objects.filter(user=user).first()
    return row.total if row else Decimal(1)


def key_sums() -> dict[str, Decimal]:
    rows = ReputationEvent.objects.values("fact_key").annotate(total=Sum("amount"))
    return {row["fact_key"]: row["total"] for row in rows}


def solutions_by(author, count: int, challenge=None):
    challenge = challenge or ChallengeFactory()
    return [make_solution(challenge, author=author, title=f"Idea {i}") for i in range(count)]


def upvotes_at(voter, solutions, times) -> list[Vote]:
    """Upvotes recorded at chosen times (the services stamp `now`), then synced."""
    votes = [
        Vote.objects.create(solution=s, voter=voter, value=Vote.UP, created_at=t, updated_at=t)
        for s, t in zip(solutions, times, strict=True)
    ]
    ledger.sync_solutions([s.pk for s in solutions])
    return votes


def test_serial_upvotes_are_reversed_with_noted_corrections_and_lineage_credit_follows():
    challenge = ChallengeFactory()
    author, ancestor, voter, fair_voter = UserFactory.create_batch(4)
    origin = make_solution(challenge, author=ancestor)
    targets = [*solutions_by(author, 4, challenge), make_fork(origin, author=author)]
    for solution in targets:
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    services.vote_cast(voter=fair_voter, solution=targets[0], value=Vote.UP)
    assert score(author) == 1 + 6 * 10
    ancestor_before = score(ancestor)
    assert ancestor_before == 1 + 5 + Decimal("2.00")  # forked, and 20 % of one upvote

    assert abuse.serial_votes_reverse() == 5

    assert score(author) == 1 + 10  # only the fair voter's upvote still counts
    assert score(ancestor) == 1 + 5
    assert Vote.objects.filter(voter=voter, serial_reversed_at__isnull=False).count() == 5
    assert not Vote.objects.filter(voter=fair_voter, serial_reversed_at__isnull=False).exists()
    noted = ReputationEvent.objects.filter(note=SERIAL_VOTING_NOTE)
    assert sorted(noted.values_list("kind", "amount")) == sorted(
        [(Kind.UPVOTE_RECEIVED, Decimal("-10.00"))] * 5 + [(Kind.LINEAGE_CREDIT, Decimal("-2.00"))]
    )
    assert all(line.seq == 2 for line in noted)
    assert all(key_sums()[f"up:{s.pk}:{voter.pk}"] == 0 for s in targets)
    assert not ReputationEvent.objects.exclude(note=SERIAL_VOTING_NOTE).filter(seq__gt=1).exists()

    history = presenters.event_lines(
        viewer=author, events=ReputationEvent.objects.filter(beneficiary=author, seq=2)
    )
    assert len(history) == 5
    assert all("reversed: serial voting" in line.text and line.correction for line in history)

    assert ledger.sync_everything() == 0


def test_the_periodic_task_reverses_and_running_twice_changes_nothing():
    author, voter = UserFactory.create_batch(2)
    now = timezone.now()
    upvotes_at(voter, solutions_by(author, 5), [now - timedelta(hours=h) for h in range(5)])
    assert tasks.reverse_serial_votes.delay().get() == 5
    lines = ReputationEvent.objects.count()
    assert tasks.reverse_serial_votes.delay().get() == 0
    assert abuse.serial_votes_reverse() == 0
    assert ReputationEvent.objects.count() == lines
    assert score(author) == 1


def test_below_the_threshold_nothing_is_reversed():
    author, voter = UserFactory.create_batch(2)
    now = timezone.now()
    upvotes_at(voter, solutions_by(author, 4), [now - timedelta(minutes=m) for m in range(4)])
    assert abuse.serial_votes_reverse() == 0
    assert score(author) == 1 + 40
    assert not ReputationEvent.objects.filter(note=SERIAL_VOTING_NOTE).exists()


def test_votes_spread_beyond_the_window_are_not_serial():
    author, voter = UserFactory.create_batch(2)
    now = timezone.now()
    # Five upvotes over 40 hours: no 24-hour window holds more than three of them.
    times = [now - timedelta(hours=h) for h in (40, 30, 20, 10, 0)]
    upvotes_at(voter, solutions_by(author, 5), times)
    assert abuse.serial_votes_reverse(now=now) == 0
    assert score(author) == 1 + 50


def test_downvotes_and_votes_to_different_authors_do_not_count(settings):
    settings.PEERHUB_SERIAL_VOTING = {"votes": 3, "window_hours": 1}
    voter = UserFactory()
    now = timezone.now()
    spread = [make_solution(author=UserFactory()) for _ in range(3)]
    upvotes_at(voter, spread, [now] * 3)
    author = UserFactory()
    mine = solutions_by(author, 3)
    upvotes_at(voter, mine[:2], [now, now])
    Vote.objects.create(solution=mine[2], voter=voter, value=Vote.DOWN, created_at=now)
    assert abuse.serial_votes_reverse() == 0


def test_thresholds_come_from_settings_and_a_late_vote_joins_the_serial_run(settings):
    settings.PEERHUB_SERIAL_VOTING = {"votes": 3, "window_hours": 2}
    author, voter = UserFactory.create_batch(2)
    solutions = solutions_by(author, 4)
    now = timezone.now()
    upvotes_at(voter, solutions[:3], [now - timedelta(minutes=m) for m in (90, 60, 30)])
    assert abuse.serial_votes_reverse(now=now) == 3
    upvotes_at(voter, solutions[3:], [now])
    assert score(author) == 1 + 10
    assert abuse.serial_votes_reverse(now=now + timedelta(minutes=5)) == 1
    assert score(author) == 1
    assert ledger.sync_everything() == 0


def test_a_reversed_vote_removed_and_cast_again_is_judged_afresh():
    author, voter = UserFactory.create_batch(2)
    solutions = solutions_by(author, 5)
    now = timezone.now()
    upvotes_at(voter, solutions, [now] * 5)
    assert abuse.serial_votes_reverse(now=now) == 5
    services.vote_remove(voter=voter, solution=solutions[0])
    assert score(author) == 1  # removing a reversed vote takes nothing more
    # Long after the serial run, an ordinary vote counts again.
    later = now + timedelta(days=3)
    upvotes_at(voter, solutions[:1], [later])
    assert abuse.serial_votes_reverse(now=later) == 0
    assert score(author) == 1 + 10
    assert ledger.sync_everything() == 0
