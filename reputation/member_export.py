"""Reputation's part of a member's data export (peerhub.exports, issue 21): the votes they cast,
the reviews they wrote, their reputation ledger (the lines where they are the beneficiary, in
the words of their profile page: a downvoter stays anonymous), their score, the flags they
raised and the moderation cases about their own work. A few queries per part."""

from django.db.models import Prefetch

from peerhub.exports import ExportPart, rows_of

from . import presenters, selectors
from .models import Flag, ModerationCase, ReputationScore, Review, ReviewScore, Vote


def member_parts(*, user) -> list[ExportPart]:
    def reviews() -> list[dict]:
        scores = ReviewScore.objects.select_related("criterion").order_by("criterion__position")
        return [
            {
                "solution_id": review.solution_id,
                "comment": review.comment,
                "mean_score": review.mean_score,
                "scores": [
                    {"criterion": score.criterion.name, "score": score.score}
                    for score in review.scores.all()
                ],
                "created_at": review.created_at,
                "updated_at": review.updated_at,
            }
            for review in Review.objects.filter(reviewer=user)
            .prefetch_related(Prefetch("scores", queryset=scores))
            .order_by("created_at", "id")
        ]

    def ledger() -> list[dict]:
        events = list(selectors.reputation_events(user))
        return [
            {
                "kind": line.event.kind,
                "amount": line.event.amount,
                "description": line.text,
                "correction": line.correction,
                "solution_id": line.solution.pk if line.solution else None,
                "fact_at": line.event.fact_at,
                "note": line.event.note,
            }
            for line in presenters.event_lines(viewer=user, events=events)
        ]

    def flags() -> list[dict]:
        return rows_of(
            Flag.objects.filter(flagger=user).order_by("created_at", "id"),
            "reason",
            "text",
            "status",
            "created_at",
            "resolved_at",
            kind="case__kind",
            object_id="case__object_id",
        )

    return [
        ExportPart(
            "reputation/votes.json",
            lambda: rows_of(
                Vote.objects.filter(voter=user).order_by("created_at", "id"),
                "solution_id",
                "value",
                "created_at",
                "updated_at",
                "serial_reversed_at",
            ),
        ),
        ExportPart("reputation/reviews.json", reviews),
        ExportPart("reputation/ledger.json", ledger),
        ExportPart(
            "reputation/score.json",
            lambda: rows_of(
                ReputationScore.objects.filter(user=user), "total", "trust_level", "computed_at"
            ),
        ),
        ExportPart("reputation/flags.json", flags),
        ExportPart(
            "reputation/moderation_cases.json",
            lambda: rows_of(
                ModerationCase.objects.filter(author=user).order_by("opened_at", "id"),
                "kind",
                "object_id",
                "status",
                "reason",
                "appeal",
                "opened_at",
                "hidden_at",
                "decided_at",
            ),
        ),
    ]
