"""The review count kept on each solution's score row (issue 23, reputation.review_counts) equals
the solution's reviews, outliers included, whatever members and staff do in whatever order:
reviews written and edited through the service, deleted one by one or in bulk (the admin, a
cascade), solutions published, forked and withdrawn; and the rankings recompute, debounced or
full, from kept rows or from none, leaves it right.

Each example runs inside a transaction rolled back at its end; the work queued on commit (the
debounced rankings recompute among it) runs when each action's captured callbacks execute,
exactly as after a real commit.

More examples while hunting:
REVIEW_COUNT_EXAMPLES=300 pytest tests/reputation/test_review_counts.py"""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count
from django.db.models.signals import post_save
from django.test import TestCase
from hypothesis import event, given
from hypothesis import strategies as st

from challenges import services as challenge_services
from challenges.models import Solution
from peerhub.exceptions import DomainError
from reputation import fitness, services
from reputation.models import ReputationScore, Review, SolutionScore
from reputation.review_queue import solutions_to_review
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import database_examples

pytestmark = pytest.mark.django_db

MEMBERS = 4
SOLUTIONS = 3

member = st.integers(min_value=0, max_value=MEMBERS - 1)
solution = st.integers(min_value=0, max_value=50)
operation = st.one_of(
    st.tuples(st.just("review"), member, solution, st.integers(1, 5)),
    st.tuples(st.just("review"), member, solution, st.integers(1, 5)),
    st.tuples(st.just("review"), member, solution, st.integers(1, 5)),
    # Staff delete a review in the admin (Model.delete), or a queryset goes (a cascade).
    st.tuples(st.just("delete"), member, solution),
    st.tuples(st.just("delete_all_of"), member),
    st.tuples(st.just("fork"), member, solution),
    st.tuples(st.just("withdraw"), solution),
    st.tuples(
        st.just("recompute"),
    ),
)


def run(action) -> None:
    """One action as a request would make it; refused ones are part of the game."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        try:
            with transaction.atomic():
                action()
        except DomainError as error:
            event(f"refused: {error.code}")


def real_counts() -> dict[int, int]:
    return dict(Solution.objects.annotate(n=Count("reviews")).values_list("pk", "n").order_by("pk"))


def assert_kept_counts_are_real() -> None:
    real = real_counts()
    kept = dict(SolutionScore.objects.values_list("solution_id", "review_count"))
    for solution_id, count in kept.items():
        assert count == real[solution_id], solution_id
    # Every published solution has its row, so the queue lists it from its publication on.
    published = Solution.objects.filter(status=Solution.Status.PUBLISHED)
    assert set(published.values_list("pk", flat=True)) <= set(kept)


def apply(op, members, solutions) -> None:
    kind = op[0]
    if kind == "review":
        _, who, which, score = op
        target = solutions[which % len(solutions)]
        criteria = list(target.challenge.criteria.values_list("pk", flat=True))
        scores = dict.fromkeys(criteria, score)
        run(
            lambda: services.review_save(
                reviewer=members[who], solution=target, comment="Fine work.", scores=scores
            )
        )
    elif kind == "delete":
        _, who, which = op
        target = solutions[which % len(solutions)]
        found = Review.objects.filter(reviewer=members[who], solution=target).first()
        if found is not None:
            run(found.delete)
            event("deleted one")
    elif kind == "delete_all_of":
        run(lambda: Review.objects.filter(reviewer=members[op[1]]).delete())
    elif kind == "fork":
        _, who, which = op
        source = solutions[which % len(solutions)]
        if source.status == Solution.Status.PUBLISHED:
            holder = []
            run(lambda: holder.append(make_fork(source, members[who])))
            solutions.extend(holder)
    elif kind == "withdraw":
        target = solutions[op[1] % len(solutions)]
        if target.status == Solution.Status.PUBLISHED:
            run(lambda: challenge_services.solution_withdraw(solution=target, by=target.author))
            target.refresh_from_db()
    else:
        run(fitness.recompute_all)


@database_examples("REVIEW_COUNT_EXAMPLES", 30)
@given(ops=st.lists(operation, min_size=3, max_size=20))
def test_the_kept_review_count_is_the_real_count_whatever_happens(ops):
    with transaction.atomic():
        members = UserFactory.create_batch(MEMBERS)
        for regular in members:
            ReputationScore.objects.create(
                user=regular, total=Decimal(100), trust_level=2, pinned_level=2
            )
        challenge = ChallengeFactory()
        solutions = []
        for i in range(SOLUTIONS):
            run(lambda i=i: solutions.append(make_solution(challenge, members[i])))
        for op in ops:
            apply(op, members, solutions)
            assert_kept_counts_are_real()
        event(f"reviews at the end: {min(Review.objects.count(), 6)}")

        # The queue reads the kept count: its n_reviews is each solution's real count.
        real = real_counts()
        for viewer in members:
            for listed in solutions_to_review(user=viewer, limit=50):
                assert listed.n_reviews == real[listed.pk]

        # A full recompute over the kept rows leaves them right, and so does one that starts
        # from no rows at all (it counts the reviews of the rows it inserts).
        fitness.recompute_all()
        assert_kept_counts_are_real()
        SolutionScore.objects.all().delete()
        fitness.recompute_all()
        assert_kept_counts_are_real()
        transaction.set_rollback(True)


def test_a_double_submitted_first_review_counts_once():
    """`_upsert` reports a review as created on both submits of a double click: the count is
    set from the reviews, not incremented, so it stays 1."""
    author, reviewer = UserFactory(), UserFactory()
    ReputationScore.objects.create(user=reviewer, total=Decimal(100), trust_level=2)
    target = make_solution(ChallengeFactory(), author)
    scores = dict.fromkeys(target.challenge.criteria.values_list("pk", flat=True), 4)
    first = services.review_save(reviewer=reviewer, solution=target, comment="A", scores=scores)
    post_save.send(sender=Review, instance=first, created=True, update_fields=None, raw=False,
                   using="default")  # fmt: skip
    assert SolutionScore.objects.get(solution=target).review_count == 1


def test_the_migration_backfill_counts_every_review_outliers_included():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reputation.migrations.0018_solution_review_count")
    author, reviewers = UserFactory(), UserFactory.create_batch(2)
    for reviewer in reviewers:
        ReputationScore.objects.create(user=reviewer, total=Decimal(100), trust_level=2)
    target = make_solution(ChallengeFactory(), author)
    scores = dict.fromkeys(target.challenge.criteria.values_list("pk", flat=True), 4)
    for reviewer in reviewers:
        services.review_save(reviewer=reviewer, solution=target, comment="Ok", scores=scores)
    Review.objects.filter(reviewer=reviewers[1]).update(outlier=True)
    SolutionScore.objects.update(review_count=0)

    migration.count_reviews(apps, None)

    assert SolutionScore.objects.get(solution=target).review_count == 2
