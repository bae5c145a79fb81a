from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reputation import ledger, services
from reputation.models import ReputationEvent, ReputationScore, Vote
from reputation.selectors import trust_level_of
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

# Transactional: ledger syncs run on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def score(user) -> Decimal:
    return ReputationScore.objects.get(user=user).total


def regular(**kwargs):
    """A member at trust level 2 (may vote down and review)."""
    user = UserFactory(**kwargs)
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


def test_upvote_gives_the_author_ten_and_removing_it_takes_them_back():
    solution = make_solution()
    voter = UserFactory()
    services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert score(solution.author) == 11
    services.vote_remove(voter=voter, solution=solution)
    assert score(solution.author) == 1
    lines = list(ReputationEvent.objects.order_by("seq").values_list("seq", "amount"))
    assert lines == [(1, Decimal("10.00")), (2, Decimal("-10.00"))]


def test_lineage_credit_flows_to_ancestors_and_stops():
    challenge = ChallengeFactory()
    a, b, c, d = UserFactory.create_batch(4)
    root = make_solution(challenge, author=a)
    child = make_fork(root, author=b)
    grandchild = make_fork(child, author=c)
    great = make_fork(grandchild, author=d)
    voter = UserFactory()
    before = {u: score(u) for u in (a, b, c)}
    services.vote_cast(voter=voter, solution=great, value=Vote.UP)
    assert score(d) == 1 + 10
    assert score(c) - before[c] == Decimal("2.00")
    assert score(b) - before[b] == Decimal("0.40")
    assert score(a) == before[a]  # the credit stops after two generations


def test_no_lineage_credit_to_the_earner_and_once_per_person():
    challenge = ChallengeFactory()
    a, b = UserFactory.create_batch(2)
    root = make_solution(challenge, author=a)
    child = make_fork(root, author=b)
    mine_again = make_fork(child, author=a)
    deeper = make_fork(mine_again, author=b)
    services.vote_cast(voter=UserFactory(), solution=deeper, value=Vote.UP)
    credit = ReputationEvent.objects.filter(kind="lineage_credit")
    assert list(credit.values_list("beneficiary_id", "amount")) == [(a.pk, Decimal("2.00"))]


def test_no_votes_on_your_own_solution_or_on_what_builds_on_it():
    root = make_solution()
    fork = make_fork(root)
    with pytest.raises(Exception, match="your own solution"):
        services.vote_cast(voter=root.author, solution=root, value=Vote.UP)
    with pytest.raises(Exception, match="builds on yours"):
        services.vote_cast(voter=root.author, solution=fork, value=Vote.UP)


def test_downvotes_need_level_two_and_cost_the_voter_one():
    solution = make_solution()
    with pytest.raises(Exception, match="trust level 2"):
        services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.DOWN)
    voter = regular()
    services.vote_cast(voter=voter, solution=solution, value=Vote.DOWN)
    assert score(solution.author) == 1  # never below 1
    assert ReputationEvent.objects.get(beneficiary=voter).amount == -1


def test_daily_cap_on_vote_reputation():
    solution = make_solution()
    for voter in UserFactory.create_batch(25):
        Vote.objects.create(solution=solution, voter=voter, value=Vote.UP)
    ledger.sync_solutions([solution.pk])
    assert score(solution.author) == 1 + 200
    yesterday = timezone.now() - timedelta(days=1)
    Vote.objects.filter(pk__in=Vote.objects.values("pk")[:5]).update(updated_at=yesterday)
    ledger.sync_solutions([solution.pk])
    # Corrections keep the original day; the moved votes count on their new day.
    assert score(solution.author) <= 1 + 200 + 50


def test_full_rebuild_after_incremental_changes_appends_nothing():
    root = make_solution()
    fork = make_fork(root)
    for voter in UserFactory.create_batch(3):
        services.vote_cast(voter=voter, solution=fork, value=Vote.UP)
    services.vote_remove(voter=Vote.objects.first().voter, solution=fork)
    assert ledger.sync_everything() == 0


def test_trust_level_rises_with_reputation_and_grants_privileges():
    solution = make_solution()
    author = solution.author
    assert trust_level_of(author) == 1
    for voter in UserFactory.create_batch(6):
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    author.refresh_from_db()
    assert ReputationScore.objects.get(user=author).trust_level == 2
    fresh = type(author).objects.get(pk=author.pk)
    assert fresh.has_perm("reputation.vote_down")
    assert not fresh.has_perm("challenges.add_challenge")


def test_a_vote_sync_touches_only_that_votes_keys():
    """`sync_vote` (what a vote queues) repairs its own keys and leaves other facts of the
    solution to their own syncs; the full rebuild then finds those."""
    solution = make_fork(make_solution())
    first, second = UserFactory.create_batch(2)
    Vote.objects.create(solution=solution, voter=first, value=Vote.UP)
    Vote.objects.create(solution=solution, voter=second, value=Vote.UP)
    assert ledger.sync_vote(solution.pk, first.pk) == {
        solution.author_id,
        solution.parent.author_id,
    }
    keys = set(ReputationEvent.objects.values_list("fact_key", flat=True))
    vote = f"{solution.pk}:{first.pk}"
    assert keys >= {f"up:{vote}", f"up:{vote}:L{solution.parent.author_id}"}
    assert not any(key.startswith(f"up:{solution.pk}:{second.pk}") for key in keys)
    assert ledger.sync_vote(solution.pk, first.pk) == set()  # nothing left to do
    assert ledger.sync_everything() == 2  # the second vote, and its lineage line


def test_a_vote_sync_runs_a_bounded_number_of_queries(django_assert_max_num_queries):
    """However many votes the solution and its author already have."""
    solution = make_solution()
    voters = UserFactory.create_batch(30)
    for voter in voters[:-1]:
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    Vote.objects.create(solution=solution, voter=voters[-1], value=Vote.UP)
    # 12 for the ledger and the score, 6 for the leaderboards' read model (reputation.boards).
    with django_assert_max_num_queries(18):
        ledger.sync_vote(solution.pk, voters[-1].pk)
    assert score(solution.author) == 1 + 200  # 30 upvotes, capped at 200 a day


def test_incremental_scores_equal_a_full_fold_across_days():
    """Votes cast, moved to another day and taken back: the scores the syncs moved step by
    step equal a fold of the whole ledger."""
    solution = make_solution()
    voters = UserFactory.create_batch(24)
    yesterday = timezone.now() - timedelta(days=1)
    for voter in voters[:6]:
        Vote.objects.create(solution=solution, voter=voter, value=Vote.UP, updated_at=yesterday)
        ledger.sync_vote(solution.pk, voter.pk)
    for voter in voters[6:]:
        services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
    assert score(solution.author) == 1 + 60 + 180
    for voter in voters[6:12]:
        services.vote_remove(voter=voter, solution=solution)
    moved = score(solution.author)
    ReputationScore.objects.filter(user=solution.author).update(ledger_sum=None, total=1)
    ledger.recompute_scores(None)
    assert score(solution.author) == moved == 1 + 60 + 120


def test_rebuild_batches_bound_solutions_and_votes():
    solutions = [make_solution() for _ in range(5)]
    voters = UserFactory.create_batch(4)
    for voter in voters:
        Vote.objects.create(solution=solutions[1], voter=voter, value=Vote.UP)
    ranges = ledger._batches(batch_size=2, votes_per_batch=3)
    ids = [s.pk for s in solutions]
    # Every solution in exactly one range, in order; the one with 4 votes alone in its range.
    assert [lo for lo, _hi, _n in ranges] == [ids[0], ids[1], ids[2], ids[4]]
    assert [n for _lo, _hi, n in ranges] == [1, 1, 2, 1]
    assert ranges[-1][1] == ids[-1]


def test_a_sync_over_many_days_folds_the_members_whole(settings):
    """Past `MAX_DAYS_BY_DAY` member-days a sync folds whole; the score is the same."""
    settings.PEERHUB_REPUTATION = {"daily_vote_cap": 15}
    solution = make_solution()
    voters = UserFactory.create_batch(ledger.MAX_DAYS_BY_DAY + 6)
    now = timezone.now()
    Vote.objects.bulk_create(
        Vote(solution=solution, voter=voter, value=Vote.UP, updated_at=now - timedelta(days=i // 2))
        for i, voter in enumerate(voters)
    )
    ledger.sync_solutions([solution.pk])
    days = (len(voters) + 1) // 2
    assert score(solution.author) == 1 + 15 * days  # two upvotes a day, capped at 15
    ReputationScore.objects.filter(user=solution.author).update(ledger_sum=None, total=1)
    ledger.recompute_scores(None)
    assert score(solution.author) == 1 + 15 * days
