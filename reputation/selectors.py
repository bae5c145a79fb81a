"""Reads for reputation: trust levels, scores, a member's ledger, a solution's votes and reviews."""

from decimal import Decimal

from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery

from peerhub.models import User
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
    score = ReputationScore.objects.filter(user=member).first()
    total = score.total if score else Decimal(1)
    level = trust_level_of(member)
    thresholds = rules.trust_thresholds()
    privileges = rules.privileges()
    next_level = level + 1 if level + 1 in rules.LEVEL_NAMES else None
    return {
        "total": total,
        "level": level,
        "level_name": rules.LEVEL_NAMES[level],
        "pinned": bool(score and score.pinned_level is not None),
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


def vote_tally(solution) -> dict[str, int]:
    tally = Vote.objects.filter(solution=solution).aggregate(
        up=Count("pk", filter=Q(value=Vote.UP)), down=Count("pk", filter=Q(value=Vote.DOWN))
    )
    return {"up": tally["up"], "down": tally["down"], "score": tally["up"] - tally["down"]}


def criterion_means(solution) -> list[dict]:
    """Per criterion of the challenge: mean score and number of reviews."""
    rows = {
        row["criterion_id"]: row
        for row in ReviewScore.objects.filter(review__solution=solution)
        .values("criterion_id")
        .annotate(mean=Avg("score"), count=Count("pk"))
    }
    return [
        {
            "criterion": criterion,
            "mean": rows.get(criterion.pk, {}).get("mean"),
            "count": rows.get(criterion.pk, {}).get("count", 0),
        }
        for criterion in solution.challenge.criteria.all()
    ]


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
