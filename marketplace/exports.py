"""A Premium organiser feature: a challenge's solutions, their scores and reviews as CSV or JSON.

It lives here, not in challenges, because Premium is the marketplace's; the permission is the
same one challenges would ask (`challenges.export_challenge`, answered by
marketplace.backends.PremiumPlanBackend; superusers hold every permission)."""

import csv
import io

from django.db.models import Avg, Count, Q, Sum

from challenges.models import Challenge, Solution
from challenges.permissions import is_organiser, is_staff
from peerhub.exceptions import NotAllowed
from reputation.models import Review

EXPORT_PERMISSION = "challenges.export_challenge"
COLUMNS = [
    "id", "title", "author", "status", "generation", "parent_id", "published_at", "vote_score",
    "upvotes", "downvotes", "review_count", "review_mean",
]  # fmt: skip


def can_export(user, challenge: Challenge) -> bool:
    return (is_organiser(user, challenge) or is_staff(user)) and user.has_perm(EXPORT_PERMISSION)


def challenge_export(*, user, challenge: Challenge) -> dict:
    """Every solution of the challenge (drafts excepted) with its votes and reviews: two
    aggregate queries and one for the reviews, whatever the size of the challenge."""
    if not can_export(user, challenge):
        raise NotAllowed("Exports are a Premium feature for the challenge's organisers.")
    solutions = (
        Solution.objects.filter(challenge=challenge)
        .exclude(status=Solution.Status.DRAFT)
        .select_related("author")
        .annotate(
            vote_score=Sum("votes__value", default=0),
            upvotes=Count("votes", filter=Q(votes__value=1)),
            downvotes=Count("votes", filter=Q(votes__value=-1)),
        )
        .order_by("pk")
    )
    reviews = dict(
        (row["solution_id"], row)
        for row in Review.objects.filter(solution__challenge=challenge)
        .values("solution_id")
        .annotate(review_count=Count("pk"), review_mean=Avg("mean_score"))
    )
    rows = []
    for s in solutions:
        review = reviews.get(s.pk, {})
        mean = review.get("review_mean")
        rows.append(
            {
                "id": s.pk, "title": s.title, "author": s.author.username, "status": s.status,
                "generation": s.generation, "parent_id": s.parent_id,
                "published_at": s.published_at.isoformat() if s.published_at else None,
                "vote_score": s.vote_score, "upvotes": s.upvotes, "downvotes": s.downvotes,
                "review_count": review.get("review_count", 0),
                "review_mean": round(float(mean), 2) if mean is not None else None,
            }
        )  # fmt: skip
    review_rows = [
        {
            "solution_id": r.solution_id, "reviewer": r.reviewer.username,
            "mean_score": float(r.mean_score), "comment": r.comment,
            "created_at": r.created_at.isoformat(),
        }
        for r in Review.objects.filter(solution__challenge=challenge)
        .select_related("reviewer")
        .order_by("solution_id", "pk")
    ]  # fmt: skip
    return {"challenge": challenge.slug, "solutions": rows, "reviews": review_rows}


def as_csv(export: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in export["solutions"]:
        # Cells starting with =, +, - or @ would be formulas in a spreadsheet.
        writer.writerow(
            {k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for k, v in row.items()}
        )
    return out.getvalue()
