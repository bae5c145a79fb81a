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
theirs, and not reviewed by them yet. Two queries (the member's own solutions, then the list),
whatever the limit."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from challenges.models import Criterion, Solution
from challenges.permissions import challenges_visible_to

from .models import Review

__all__ = ["solutions_to_review"]


def _built_on_q(own_ids) -> Q:
    """Solutions whose materialised path runs through one of `own_ids` (forks of the member's
    work, at any depth)."""
    q = Q()
    for pk in own_ids:
        q |= Q(path__contains=f"/{pk}/")
    return q


def solutions_to_review(
    *, user, challenge=None, limit: int = 10, among: Iterable[int] | None = None
) -> list[Solution]:
    """Up to `limit` solutions for `user` to review, in `challenge` or in every challenge they
    can see (of the challenge ids `among`, when given: the simulation's own community); each
    with `n_reviews` (its reviews, outliers included: each was a reviewer's time). The fewest
    reviews first, then the newest, then the lowest id."""
    return list(_queue(user=user, challenge=challenge, among=among)[:limit])


def _queue(*, user, challenge, among) -> QuerySet[Solution]:
    solutions = Solution.objects.filter(
        status=Solution.Status.PUBLISHED, hidden_at__isnull=True
    ).exclude(author=user)
    if challenge is not None:
        solutions = solutions.filter(challenge=challenge)
    else:
        solutions = solutions.filter(challenge__in=challenges_visible_to(user).values("pk"))
    if among is not None:
        solutions = solutions.filter(challenge_id__in=list(among))
    solutions = solutions.filter(Exists(Criterion.objects.filter(challenge=OuterRef("challenge"))))
    own = Solution.objects.filter(author=user)
    if challenge is not None:
        own = own.filter(challenge=challenge)
    own_ids = list(own.values_list("pk", flat=True))
    if own_ids:
        solutions = solutions.exclude(_built_on_q(own_ids))
    mine = Review.objects.filter(solution=OuterRef("pk"), reviewer=user)
    return (
        solutions.exclude(Exists(mine))
        .annotate(n_reviews=Count("reviews"))
        .select_related("challenge", "author")
        .order_by("n_reviews", "-published_at", "pk")
    )
