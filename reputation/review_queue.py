"""What most needs a review (issue 23): the solutions a member may review, the fewest reviews
first, then the newest.

Measured in the community simulation (1,500 members, 12 challenges, 15 days, every adversary,
seeds 1-6): veterans who took the platform's least-reviewed solutions, whatever the challenge,
ranked the challenges closer to the hidden quality than veterans who took the least-reviewed of
one challenge picked at random (README, "Trust and the community simulation"). Rules that
spend reviews where ranks are close, or at the top of a ranking, did worse than the plain
count: Kendall τ counts every pair alike, and even counts serve every pair.

A solution is listed when the member could review it (reputation.services.review_save):
published, not hidden, in a challenge they can see that has criteria, not theirs nor built on
theirs, and not reviewed by them yet; and not a copy of its source (`SolutionScore.is_copy`):
reviewing a copy reviews its source again, and a copy has no rank to settle. Two queries (the
member's own solutions, then the list), whatever the limit.

The count is each solution's kept `SolutionScore.review_count` (reputation.review_counts), read
in the order of its partial index `score_review_queue`: the list reads its rows from the head of
that index (on PostgreSQL, 21 rows for 20 on a 20,000-member scale dataset), where counting every
visible solution's reviews read the whole reviews table. A
published solution has a score row from its publication on (reputation.signals), so it is
listed before its first recompute."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from challenges.models import Criterion, Solution
from challenges.permissions import challenges_visible_to

from .models import Review, SolutionScore

__all__ = ["solutions_to_review"]


def _built_on_q(own_ids) -> Q:
    """Scores of solutions whose materialised path runs through one of `own_ids` (forks of the
    member's work, at any depth)."""
    q = Q()
    for pk in own_ids:
        q |= Q(solution__path__contains=f"/{pk}/")
    return q


def solutions_to_review(
    *, user, challenge=None, limit: int = 10, among: Iterable[int] | None = None
) -> list[Solution]:
    """Up to `limit` solutions for `user` to review, in `challenge` or in every challenge they
    can see (of the challenge ids `among`, when given: the simulation's own community); each
    with `n_reviews` (its reviews, outliers included: each was a reviewer's time) and its
    challenge and author loaded. The fewest reviews first, then the newest, then the lowest
    id."""
    scores = _queue(user=user, challenge=challenge, among=among)[:limit]
    solutions = []
    for score in scores:
        solution = score.solution
        solution.n_reviews = score.review_count
        solutions.append(solution)
    return solutions


def _queue(*, user, challenge, among) -> QuerySet[SolutionScore]:
    """The score rows of the solutions `user` may review, in the queue's order: read in the
    order of their index (`score_review_queue`, published rows by review count, newest first,
    then by solution id), each row checked against the solution and stopping at the limit."""
    scores = SolutionScore.objects.filter(
        published_at__isnull=False,
        solution__status=Solution.Status.PUBLISHED,
        solution__hidden_at__isnull=True,
        is_copy=False,  # kept with Solution.unchanged_fork (reputation.signals); in the index
    ).exclude(solution__author=user)
    if challenge is not None:
        scores = scores.filter(challenge=challenge)
    else:
        scores = scores.filter(challenge__in=challenges_visible_to(user).values("pk"))
    if among is not None:
        scores = scores.filter(challenge_id__in=list(among))
    scores = scores.filter(Exists(Criterion.objects.filter(challenge=OuterRef("challenge"))))
    own = Solution.objects.filter(author=user)
    if challenge is not None:
        own = own.filter(challenge=challenge)
    own_ids = list(own.values_list("pk", flat=True))
    if own_ids:
        scores = scores.exclude(_built_on_q(own_ids))
    mine = Review.objects.filter(solution=OuterRef("solution"), reviewer=user)
    return (
        scores.exclude(Exists(mine))
        .select_related("solution__challenge", "solution__author")
        .order_by("review_count", "-published_at", "solution_id")
    )
