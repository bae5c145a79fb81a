"""Reads for reputation: trust levels, scores, a member's ledger, a solution's votes and reviews."""

from decimal import Decimal

from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from challenges.models import Criterion
from peerhub.models import User
from peerhub.related_rows import attach_related, related_rows
from peerhub.selectors import user_is_verified

from . import rules
from .models import (
    MemberTrust,
    ReputationEvent,
    ReputationScore,
    Review,
    ReviewScore,
    TrustSnapshot,
    Vote,
)


def trust_level_of(user) -> int:
    """The member's trust level, cached on the user object for the request.

    Derived from the stored total and today's verification (not the stored level): a member
    who verifies an address after a recomputation wrote level 0 must not wait for the next
    one, and changed thresholds apply at once. A staff pin wins."""
    if not getattr(user, "is_authenticated", False):
        return 0
    cached = getattr(user, "_peerhub_trust_level", None)
    if cached is not None:
        return cached
    if hasattr(user, "_peerhub_score_total"):  # loaded with the request's user
        total, pinned = user._peerhub_score_total, user._peerhub_score_pinned
    else:
        score = ReputationScore.objects.filter(user=user).only("total", "pinned_level").first()
        total, pinned = (score.total, score.pinned_level) if score else (None, None)
    if pinned is not None:
        level = pinned
    else:
        total = total if total is not None else Decimal(1)
        level = rules.level_for(total=total, verified=user_is_verified(user))
    user._peerhub_trust_level = level
    return level


def request_user_annotations() -> dict:
    """`trust_level_of`'s inputs (the stored total and the staff pin), loaded with the
    request's user in one query (peerhub.auth_backends); no score row reads as (None, None)."""
    score = ReputationScore.objects.filter(user=OuterRef("pk"))
    return {
        "_peerhub_score_total": Subquery(score.values("total")[:1]),
        "_peerhub_score_pinned": Subquery(score.values("pinned_level")[:1]),
    }


def score_of(user) -> Decimal:
    score = ReputationScore.objects.filter(user=user).only("total").first()
    return score.total if score else Decimal(1)


def reputation_summary(member) -> dict:
    """Score, level, what the level unlocks and what the next one needs: the profile's panel."""
    if hasattr(member, "_peerhub_score_total"):  # loaded with the member (request_user_annotations)
        total, pinned = member._peerhub_score_total, member._peerhub_score_pinned
    else:
        score = ReputationScore.objects.filter(user=member).first()
        total, pinned = (score.total, score.pinned_level) if score else (None, None)
    total = total if total is not None else Decimal(1)
    level = trust_level_of(member)
    thresholds = rules.trust_thresholds()
    privileges = rules.privileges()
    next_level = level + 1 if level + 1 in rules.LEVEL_NAMES else None
    return {
        "total": total,
        "level": level,
        "level_name": rules.LEVEL_NAMES[level],
        "pinned": pinned is not None,
        "privileges": [
            rules.PRIVILEGE_LABELS.get(p, p) for p, n in privileges.items() if n <= level
        ],
        "next_level": next_level,
        "next_level_name": rules.LEVEL_NAMES.get(next_level) if next_level else None,
        "next_needs": thresholds.get(next_level) if next_level else None,
        "next_unlocks": [
            rules.PRIVILEGE_LABELS.get(p, p) for p, n in privileges.items() if n == next_level
        ],
    }


def reputation_events(member) -> QuerySet[ReputationEvent]:
    return (
        ReputationEvent.objects.filter(beneficiary=member)
        .select_related("solution", "source_solution", "actor")
        .order_by("-fact_at", "-id")
    )


def votes_by(user, solution_ids) -> dict[int, int]:
    if not getattr(user, "is_authenticated", False):
        return {}
    return dict(
        Vote.objects.filter(voter=user, solution_id__in=list(solution_ids)).values_list(
            "solution_id", "value"
        )
    )


def vote_tally_annotations(user) -> dict:
    """The vote tally (and `user`'s own vote) as annotations of a Solution query, for the
    solution page's one query (read back by vote_tally_read_with)."""
    votes = Vote.objects.filter(solution=OuterRef("pk")).order_by().values("solution")

    def count(value):
        return Coalesce(Subquery(votes.filter(value=value).annotate(n=Count("pk")).values("n")), 0)

    annotations = {"_tally_up": count(Vote.UP), "_tally_down": count(Vote.DOWN)}
    if getattr(user, "is_authenticated", False):
        annotations["_my_vote"] = Coalesce(
            Subquery(Vote.objects.filter(solution=OuterRef("pk"), voter=user).values("value")[:1]),
            0,
        )
        annotations["_my_vote_of"] = Value(user.pk)
    return annotations


def vote_tally_read_with(solution, user) -> tuple[dict[str, int], int] | None:
    """The tally and `user`'s vote that solution_get read with the solution, or None when it
    did not (for the page that shows the solution as it was read: after a vote, ask again).
    A row read as a visitor reads it (kept for members, challenges.pagecache.visitors_row)
    carries the tally only: the member's own vote is then asked for alone."""
    if not hasattr(solution, "_tally_up"):
        return None
    mine = 0
    if getattr(user, "is_authenticated", False):
        if hasattr(solution, "_my_vote_of"):
            if solution._my_vote_of != user.pk:
                return None
            mine = solution._my_vote
        else:
            mine = votes_by(user, [solution.pk]).get(solution.pk, 0)
    up, down = solution._tally_up, solution._tally_down
    return {"up": up, "down": down, "score": up - down}, mine


def vote_tally(solution) -> dict[str, int]:
    tally = Vote.objects.filter(solution=solution).aggregate(
        up=Count("pk", filter=Q(value=Vote.UP)), down=Count("pk", filter=Q(value=Vote.DOWN))
    )
    return {"up": tally["up"], "down": tally["down"], "score": tally["up"] - tally["down"]}


def criterion_means(solution) -> list[dict]:
    """Per criterion of the challenge: mean score and number of reviews, in one query."""
    scores = (
        ReviewScore.objects.filter(criterion=OuterRef("pk"), review__solution=solution)
        .order_by()
        .values("criterion")
    )
    criteria = (
        Criterion.objects.filter(challenge_id=solution.challenge_id)
        .annotate(
            mean=Subquery(scores.annotate(mean=Avg("score")).values("mean")),
            count=Coalesce(Subquery(scores.annotate(n=Count("pk")).values("n")), 0),
        )
        .order_by("position")
    )
    return [{"criterion": c, "mean": c.mean, "count": c.count} for c in criteria]


def solution_reviews_with_scores(solution) -> QuerySet[Review]:
    """solution_reviews with each review's scores read in its own row (peerhub.related_rows):
    one query; attach_review_scores then puts them in place."""
    return (
        solution_reviews(solution)
        .prefetch_related(None)
        .annotate(
            scores_json=related_rows(
                ReviewScore.objects.filter(review=OuterRef("pk")),
                "id",
                "review_id",
                "criterion_id",
                "score",
            )
        )
    )


def attach_review_scores(reviews, *, criteria) -> None:
    """`review.scores.all()` for reviews read by solution_reviews_with_scores, each score with
    its criterion taken from `criteria` (the challenge's, already loaded)."""
    by_id = {criterion.pk: criterion for criterion in criteria}

    def order(score):
        criterion = by_id.get(score.criterion_id)
        return (criterion.position if criterion else 0, score.pk)

    for review in reviews:
        attach_related(review, "scores", ReviewScore, review.scores_json, key=order)
        for score in review.scores.all():
            if score.criterion_id in by_id:
                score.criterion = by_id[score.criterion_id]


def solution_reviews(solution) -> QuerySet[Review]:
    return (
        Review.objects.filter(solution=solution)
        .select_related("reviewer")
        .prefetch_related("scores__criterion")
        .order_by("-updated_at")
    )


def trust_review(*, lowest: int = 50) -> dict | None:
    """For the staff moderation page: the latest trust snapshot, its `lowest` members with the
    least trust among those with any endorsement (with their reputation), and its densest
    mutual-voting clusters with their members. Four queries; None before the first snapshot."""
    snapshot = TrustSnapshot.objects.order_by("-version").first()
    if snapshot is None:
        return None
    low = list(
        MemberTrust.objects.filter(snapshot=snapshot, low_trust=True)
        .select_related("user", "user__reputation")
        .order_by("trust", "user_id")[:lowest]
    )
    ids = {pk for cluster in snapshot.clusters for pk in cluster["user_ids"]}
    users = User.objects.in_bulk(ids)
    trusts = dict(
        MemberTrust.objects.filter(snapshot=snapshot, user_id__in=ids).values_list(
            "user_id", "trust"
        )
    )
    clusters = [
        {
            **cluster,
            "members": [(users[pk], trusts.get(pk)) for pk in cluster["user_ids"] if pk in users],
        }
        for cluster in snapshot.clusters
    ]
    return {"snapshot": snapshot, "lowest": low, "clusters": clusters}
