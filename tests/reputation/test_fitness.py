"""Fitness and rank (reputation.fitness): crafted orderings, the explanation adding up, the
withdrawn and self-forking rules, idempotence, full equals incremental, and the debounce."""

import os
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from challenges import services as challenge_services
from challenges.models import Solution
from peerhub import outbox
from reputation import fitness, rankings, rules, tasks
from reputation.models import Review, SolutionScore, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import clear_caches

pytestmark = pytest.mark.django_db


def votes(solution, up: int, down: int = 0, voters=None) -> None:
    """Counted votes, written directly: the rules of who may vote are tested elsewhere."""
    voters = voters or UserFactory.create_batch(up + down)
    Vote.objects.bulk_create(
        [Vote(solution=solution, voter=v, value=1) for v in voters[:up]]
        + [Vote(solution=solution, voter=v, value=-1) for v in voters[up : up + down]]
    )


def score(solution) -> SolutionScore:
    return SolutionScore.objects.get(solution=solution)


def stored(challenge) -> dict[int, tuple]:
    return {
        s.solution_id: (s.fitness, s.rank, s.built_upon, s.components)
        for s in SolutionScore.objects.filter(challenge=challenge)
    }


@pytest.fixture
def challenge():
    return ChallengeFactory()


def test_one_upvote_ranks_below_ninety_up_ten_down(challenge):
    lone = make_solution(challenge, title="One vote")
    popular = make_solution(challenge, title="Ninety up, ten down")
    voters = UserFactory.create_batch(100)
    votes(lone, 1, 0, voters)
    votes(popular, 90, 10, voters)

    fitness.recompute_challenge(challenge.pk)

    assert score(popular).rank == 1
    assert score(lone).rank == 2
    assert score(lone).components["votes"]["value"] == pytest.approx(0.2065, abs=1e-4)
    assert score(popular).components["votes"]["value"] == pytest.approx(0.8256, abs=1e-3)


def test_a_heavily_built_upon_solution_outranks_an_equal_one_without_forks(challenge):
    voters = UserFactory.create_batch(5)
    built_upon = make_solution(challenge, title="Built upon")
    alone = make_solution(challenge, title="Alone")
    votes(built_upon, 5, 0, voters)
    votes(alone, 5, 0, voters)
    for _ in range(4):
        make_fork(built_upon)

    fitness.recompute_challenge(challenge.pk)

    assert score(built_upon).rank < score(alone).rank
    assert score(built_upon).built_upon == 4
    assert score(built_upon).components["descendants"]["value"] > 0
    assert score(alone).components["descendants"]["value"] == 0


def test_the_authors_own_forks_earn_nothing(challenge):
    author = UserFactory()
    farmed = make_solution(challenge, author, title="Self-forked")
    for _ in range(5):
        make_fork(farmed, author)

    fitness.recompute_challenge(challenge.pk)

    assert score(farmed).built_upon == 0
    assert score(farmed).components["descendants"]["points"] == 0


def test_an_unchanged_fork_builds_nothing_until_its_author_changes_it(challenge):
    source = make_solution(challenge, title="Copied")
    copy = make_fork(source, changed=False)
    grandchild = make_fork(copy)  # a remix of the copy builds on the source's content

    fitness.recompute_challenge(challenge.pk)
    assert score(source).built_upon == 1
    assert score(copy).built_upon == 1

    challenge_services.solution_revise(
        solution=copy, by=copy.author, title=copy.title, body="Now my own take."
    )
    fitness.recompute_challenge(challenge.pk)

    assert score(source).built_upon == 2
    assert grandchild.parent_id == copy.pk


def test_a_copy_is_scored_but_not_ranked_until_its_author_changes_it(challenge):
    """A copy is its source's work, which is ranked: it keeps a score (its votes show) but takes
    no place in the ranking, however it is voted, until its author changes what it copied."""
    source = make_solution(challenge, title="Copied")
    other = make_solution(challenge)
    copy = make_fork(source, changed=False)
    votes(copy, 9)
    votes(other, 1)

    assert score(copy).is_copy  # from its publication on (reputation.review_counts)
    fitness.recompute_challenge(challenge.pk)
    assert score(copy).rank is None and score(copy).fitness > score(other).fitness
    assert (score(other).rank, score(source).rank) == (1, 2)
    assert score(copy).is_copy and not score(source).is_copy

    challenge_services.solution_revise(
        solution=copy, by=copy.author, title=copy.title, body="Now my own take."
    )
    fitness.recompute_challenge(challenge.pk)
    assert [score(s).rank for s in (copy, other, source)] == [1, 2, 3]
    assert not score(copy).is_copy


def test_the_migration_marks_the_scores_of_copies():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reputation.migrations.0022_score_is_copy")
    source = make_solution()
    copy = make_fork(source, changed=False)
    remix = make_fork(source)
    SolutionScore.objects.update(is_copy=False)

    migration.copy_from_solutions(apps, None)

    assert [score(s).is_copy for s in (source, copy, remix)] == [False, True, False]


def test_descendants_count_halving_per_generation(challenge):
    parent = make_solution(challenge)
    child = make_fork(parent)
    make_fork(child)

    fitness.recompute_challenge(challenge.pk)

    # With no votes or reviews anywhere, a descendant's quality is the review prior alone:
    # (1 + the reviews' share of the quality weights x 0.5) / 2 for the child, half that for
    # the grandchild.
    weights = rules.fitness().weights
    quality = (1 + weights["reviews"] / (weights["votes"] + weights["reviews"]) * 0.5) / 2
    assert score(parent).components["descendants"]["raw"] == pytest.approx(quality * 1.5, 1e-3)
    assert score(child).components["descendants"]["raw"] == pytest.approx(quality, 1e-3)


def test_weights_change_the_order_as_documented(challenge):
    """Votes weigh more than descendants by default; raise the weight of descendants and the
    much built-upon solution with fewer votes comes first."""
    voters = UserFactory.create_batch(40)
    voted = make_solution(challenge, title="Voted")
    built = make_solution(challenge, title="Built upon")
    votes(voted, 40, 0, voters)
    votes(built, 3, 2, voters)
    for _ in range(3):
        make_fork(built)

    fitness.recompute_challenge(challenge.pk)
    assert score(voted).rank == 1

    with override_settings(PEERHUB_FITNESS={"weights": {"votes": 0.05, "descendants": 0.6}}):
        fitness.recompute_challenge(challenge.pk)
    assert score(built).rank == 1
    assert score(built).components["descendants"]["weight"] == 0.6


def test_reviews_use_a_bayesian_mean_with_the_challenges_prior(challenge):
    one_review, many, poor = (make_solution(challenge) for _ in range(3))
    reviewers = UserFactory.create_batch(6)
    Review.objects.create(solution=one_review, reviewer=reviewers[0], comment="x", mean_score=5)
    for reviewer in reviewers[1:]:
        Review.objects.create(solution=many, reviewer=reviewer, comment="x", mean_score=4)
    for reviewer in reviewers[1:5]:
        Review.objects.create(solution=poor, reviewer=reviewer, comment="x", mean_score=1)

    fitness.recompute_challenge(challenge.pk)

    prior = (5 + 4 * 5 + 1 * 4) / 10
    part = score(one_review).components["reviews"]
    assert part["prior"] == pytest.approx(prior, abs=1e-4)
    assert part["bayesian_mean"] == pytest.approx((2 * prior + 5) / 3, abs=1e-4)
    # One 5 is worth less than five 4s once the prior pulls it towards the mean.
    assert [score(s).rank for s in (many, one_review, poor)] == [1, 2, 3]


def test_explanation_components_add_up_to_the_fitness(challenge):
    solutions = [make_solution(challenge) for _ in range(4)]
    voters = UserFactory.create_batch(12)
    votes(solutions[0], 7, 3, voters)
    votes(solutions[1], 1, 0, voters)
    make_fork(solutions[0])
    Review.objects.create(solution=solutions[2], reviewer=voters[0], comment="x", mean_score=4.5)

    fitness.recompute_challenge(challenge.pk)

    for row in SolutionScore.objects.filter(challenge=challenge):
        points = [Decimal(str(part["points"])) for part in row.components.values()]
        assert sum(points) == row.fitness
        lines = rankings.explanation(row)
        assert sum(line.points for line in lines) == row.fitness
        assert [line.name for line in lines] == list(fitness.COMPONENTS)
        assert row.components["adoption"] == {
            "weight": 0.05,
            "value": 0.0,
            "points": 0.0,
            "offers": 0,
            "orders": 0,
        }


def test_withdrawn_solutions_have_no_rank_and_drafts_no_score(challenge):
    kept = make_solution(challenge)
    gone = make_solution(challenge)
    draft = make_solution(challenge, publish=False)
    challenge_services.solution_withdraw(solution=gone, by=gone.author)

    fitness.recompute_challenge(challenge.pk)

    assert score(kept).rank == 1
    assert score(gone).rank is None
    assert not SolutionScore.objects.filter(solution=draft).exists()


def test_a_score_carries_its_solutions_publication_and_whether_it_starts_a_lineage(challenge):
    root = make_solution(challenge)
    fork = make_fork(root, changed=True)

    fitness.recompute_challenge(challenge.pk)
    root.refresh_from_db()
    fork.refresh_from_db()

    assert (score(root).published_at, score(root).is_root) == (root.published_at, True)
    assert (score(fork).published_at, score(fork).is_root) == (fork.published_at, False)


def test_unverified_self_and_serial_votes_do_not_count(challenge):
    solution = make_solution(challenge)
    Vote.objects.create(solution=solution, voter=UserFactory(verified=False), value=1)
    Vote.objects.create(solution=solution, voter=solution.author, value=1)
    from django.utils import timezone

    Vote.objects.create(
        solution=solution, voter=UserFactory(), value=1, serial_reversed_at=timezone.now()
    )

    fitness.recompute_challenge(challenge.pk)

    assert score(solution).components["votes"]["up"] == 0


def test_recompute_is_idempotent(challenge):
    a, b = make_solution(challenge), make_solution(challenge)
    votes(a, 3, 1)
    make_fork(b)
    fitness.recompute_challenge(challenge.pk)
    first = stored(challenge)
    fitness.recompute_challenge(challenge.pk)
    assert stored(challenge) == first


def test_recompute_challenge_runs_a_fixed_number_of_queries(
    challenge, django_assert_max_num_queries
):
    for _ in range(30):
        votes(make_solution(challenge), 2, 1)
    # Measure, lock, drop the unscored, read the stored figures, upsert what moved, and the
    # transaction's own statements on PostgreSQL.
    with django_assert_max_num_queries(9):
        assert fitness.recompute_challenge(challenge.pk) == 30


def test_a_vote_on_a_fork_in_another_challenge_moves_the_ancestors_challenge():
    home, elsewhere = ChallengeFactory(), ChallengeFactory()
    parent = make_solution(home)
    fork = make_fork(parent, challenge=elsewhere)
    assert fitness.challenges_affected_by([fork.pk]) == {home.pk, elsewhere.pk}


def test_recompute_rankings_command_equals_the_incremental_state(challenge):
    a, b = make_solution(challenge), make_solution(challenge)
    with TestCase.captureOnCommitCallbacks(execute=True):
        votes(a, 4, 0)
        make_fork(b)
    incremental = stored(challenge)
    assert incremental  # the signals recomputed after commit (eager tasks)
    call_command("recompute_rankings", verbosity=0)
    assert stored(challenge) == incremental


# --- Batches and unchanged rows ---------------------------------------------------------------


def several_challenges() -> list:
    """Four challenges with votes, reviews (each challenge its own prior), withdrawals, and
    forks within and across challenges (a fork's quality feeds its ancestor elsewhere)."""
    challenges = ChallengeFactory.create_batch(4)
    voters = UserFactory.create_batch(8)
    for number, challenge in enumerate(challenges):
        solutions = [make_solution(challenge) for _ in range(3)]
        votes(solutions[0], 2 + number, 1, voters)
        votes(solutions[1], 5 - number, 0, voters)
        for reviewer in voters[: number + 1]:
            Review.objects.create(
                solution=solutions[number % 3],
                reviewer=reviewer,
                comment="x",
                mean_score=number + 1,
            )
        fork = make_fork(solutions[1], challenge=challenges[(number + 1) % 4])
        votes(fork, number, 0, voters)
        make_fork(fork)
        challenge_services.solution_withdraw(solution=solutions[2], by=solutions[2].author)
    return challenges


def test_recompute_all_in_batches_equals_each_challenge_recomputed_alone():
    challenges = several_challenges()
    for challenge in challenges:
        fitness.recompute_challenge(challenge.pk)
    alone = {c.pk: stored(c) for c in challenges}
    assert all(alone.values())

    for batch in (1, 3, 100):
        SolutionScore.objects.all().delete()
        with mock.patch.object(fitness, "BATCH_CHALLENGES", batch):
            written = fitness.recompute_all()
        assert {c.pk: stored(c) for c in challenges} == alone
        assert written == SolutionScore.objects.count()


def test_recompute_all_runs_the_same_queries_whatever_the_number_of_challenges(
    django_assert_max_num_queries,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    several_challenges()
    with CaptureQueriesContext(connection) as four:
        fitness.recompute_all()
    several_challenges()
    with django_assert_max_num_queries(len(four.captured_queries)):
        written = fitness.recompute_all()
    assert written == SolutionScore.objects.count()
    assert len(four.captured_queries) <= 10


def test_a_recompute_rewrites_only_the_scores_that_changed(challenge):
    leader, other = make_solution(challenge), make_solution(challenge)
    voters = UserFactory.create_batch(4)
    votes(leader, 3, 0, voters[:3])
    fitness.recompute_challenge(challenge.pk)
    long_ago = timezone.now() - timedelta(days=3)
    SolutionScore.objects.update(computed_at=long_ago)

    assert fitness.recompute_challenge(challenge.pk) == 2  # nothing changed: nothing written
    assert set(SolutionScore.objects.values_list("computed_at", flat=True)) == {long_ago}

    votes(leader, 1, 0, voters[3:])  # the leader's fitness moves, the other's rank stays 2
    before = score(other)
    fitness.recompute_all()
    assert score(leader).computed_at > long_ago
    assert score(leader).components["votes"]["up"] == 4
    assert score(other).computed_at == long_ago
    assert (score(other).fitness, score(other).rank) == (before.fitness, before.rank)


def test_a_recompute_sends_only_the_scores_that_changed(challenge):
    """The batch's stored figures are read first: what did not move is not even sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def upserts(context) -> list[str]:
        return [q["sql"] for q in context.captured_queries if q["sql"].startswith("INSERT")]

    leader, other = make_solution(challenge), make_solution(challenge)
    votes(leader, 3)
    fitness.recompute_challenge(challenge.pk)
    with CaptureQueriesContext(connection) as nothing:
        assert fitness.recompute_challenge(challenge.pk) == 2
    assert upserts(nothing) == []

    # A stored figure gone wrong (the explanation, the copy flag) is sent, alone, and mended.
    right = score(other).components
    SolutionScore.objects.filter(solution=other).update(components={}, is_copy=True)
    with CaptureQueriesContext(connection) as mended:
        fitness.recompute_challenge(challenge.pk)
    assert [sql.count("SELECT COUNT(*)") for sql in upserts(mended)] == [1]  # one row
    assert (score(other).components, score(other).is_copy) == (right, False)


def test_a_changed_rank_alone_rewrites_the_score(challenge):
    first, second = make_solution(challenge), make_solution(challenge)
    voters = UserFactory.create_batch(6)
    votes(first, 2, 0, voters[:2])
    fitness.recompute_challenge(challenge.pk)
    long_ago = timezone.now() - timedelta(days=3)
    SolutionScore.objects.update(computed_at=long_ago)

    votes(second, 4, 0, voters[2:])  # second overtakes: first's figures stay, its rank moves
    fitness.recompute_challenge(challenge.pk)

    assert (score(first).rank, score(second).rank) == (2, 1)
    assert score(first).computed_at > long_ago


def test_recompute_drops_the_score_of_a_solution_no_longer_scored_and_skips_a_deleted_challenge(
    challenge,
):
    solution = make_solution(challenge)
    fitness.recompute_challenge(challenge.pk)
    Solution.objects.filter(pk=solution.pk).update(status="draft", published_at=None)
    assert fitness.recompute_challenge(challenge.pk) == 0
    assert not SolutionScore.objects.filter(solution=solution).exists()

    with mock.patch.object(fitness.Challenge.objects, "select_for_update") as locked:
        locked.return_value.filter.return_value.order_by.return_value.values_list.return_value = []
        assert fitness.recompute_challenge(ChallengeFactory().pk) == 0
    assert not SolutionScore.objects.exists()


# --- Debounce ----------------------------------------------------------------------------------


def test_fifty_votes_within_a_second_cause_one_recompute_per_challenge():
    """The signals promise `rankings_after_change` with each commit; the add-lock lets only the
    first change of each challenge promise a recompute, `countdown` seconds later."""
    first, second = ChallengeFactory(), ChallengeFactory()
    targets = [make_solution(first), make_solution(second)]
    voters = UserFactory.create_batch(25)
    queued = []
    real_enqueue = outbox.enqueue

    def enqueue(task, *args, countdown=0, **kwargs):
        if task is tasks.recompute_challenge_rankings:
            queued.append((args[0], countdown))
            return None
        return real_enqueue(task, *args, countdown=countdown, **kwargs)

    with mock.patch.object(outbox, "enqueue", side_effect=enqueue):
        clear_caches()
        for voter in voters:
            for target in targets:
                with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
                    Vote.objects.create(solution=target, voter=voter, value=1)
    assert sorted(queued) == sorted([(first.pk, 5.0), (second.pk, 5.0)])

    # The queued runs recompute each challenge once; the next change queues again.
    for challenge_id, _countdown in queued:
        tasks.recompute_challenge_rankings(challenge_id)
    assert SolutionScore.objects.get(solution=targets[0]).components["votes"]["up"] == 25
    queued.clear()
    with (
        mock.patch.object(outbox, "enqueue", side_effect=enqueue),
        TestCase.captureOnCommitCallbacks(execute=True),
        transaction.atomic(),
    ):
        Vote.objects.filter(solution=targets[0]).first().delete()
    assert queued == [(first.pk, 5.0)]


# --- Full equals incremental (property) -------------------------------------------------------

action = st.one_of(
    st.tuples(st.just("vote"), st.integers(0, 5), st.integers(0, 5), st.sampled_from([1, -1])),
    st.tuples(st.just("unvote"), st.integers(0, 5), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("fork"), st.integers(0, 5), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("review"), st.integers(0, 5), st.integers(0, 5), st.integers(1, 5)),
    st.tuples(st.just("withdraw"), st.integers(0, 5), st.just(0), st.just(0)),
    st.tuples(st.just("copy"), st.integers(0, 5), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("change"), st.integers(0, 5), st.just(0), st.integers(0, 1)),
)


@settings(
    max_examples=int(os.environ.get("FITNESS_EXAMPLES", 15)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action, min_size=1, max_size=14))
def test_full_recompute_equals_the_incremental_state(actions):
    with transaction.atomic():
        challenges = [ChallengeFactory(), ChallengeFactory()]
        members = UserFactory.create_batch(6)
        with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
            solutions = [make_solution(challenges[i % 2], members[i]) for i in range(3)]
        for kind, a, b, value in actions:
            target = solutions[a % len(solutions)]
            member = members[b]
            with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
                if kind == "vote" and member.pk != target.author_id:
                    Vote.objects.update_or_create(
                        solution=target, voter=member, defaults={"value": value}
                    )
                elif kind == "unvote":
                    Vote.objects.filter(solution=target, voter=member).delete()
                elif kind == "fork" and target.status == "published":
                    solutions.append(make_fork(target, member, challenge=challenges[b % 2]))
                elif kind == "review" and member.pk != target.author_id:
                    Review.objects.update_or_create(
                        solution=target,
                        reviewer=member,
                        defaults={"comment": "x", "mean_score": value},
                    )
                elif kind == "withdraw" and target.status == "published":
                    challenge_services.solution_withdraw(solution=target, by=target.author)
                    target.refresh_from_db()
                elif kind == "copy" and target.status == "published":
                    copied = make_fork(target, member, challenge=challenges[b % 2], changed=False)
                    solutions.append(copied)
                elif kind == "change" and target.parent_id and target.status == "published":
                    # A fork changed (1), or given back the body it copied (0): a copy again.
                    target.refresh_from_db()
                    body = (
                        f"My own take {target.pk}." if value else target.forked_from_revision.body
                    )
                    if body != target.current_revision.body:
                        challenge_services.solution_revise(
                            solution=target, by=target.author, title=target.title, body=body
                        )
                        target.refresh_from_db()
        incremental = {c.pk: stored(c) for c in challenges}
        fitness.recompute_all()
        assert {c.pk: stored(c) for c in challenges} == incremental
        transaction.set_rollback(True)


def test_the_migration_gives_existing_scores_their_solutions_publication_and_root(challenge):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reputation.migrations.0016_score_board_columns")
    root = make_solution(challenge)
    fork = make_fork(root)
    fitness.recompute_challenge(challenge.pk)
    SolutionScore.objects.update(published_at=None, is_root=False)

    migration.copy_from_solutions(apps, None)

    root.refresh_from_db()
    fork.refresh_from_db()
    assert (score(root).published_at, score(root).is_root) == (root.published_at, True)
    assert (score(fork).published_at, score(fork).is_root) == (fork.published_at, False)
