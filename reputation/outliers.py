"""Review bombing (issue 23): a review far from the consensus of the reviews before it counts
nothing.

A solution's reviews are read in the order of the UTC day they were last written. The consensus
on a day is the median mean score of the reviews written on earlier days that counted; a review
whose mean lies `gap` points or more from it (rules.review_outliers), once at least
`min_earlier` earlier reviews make a consensus, is an outlier. Reviews of one day never judge
each other, so a group that bombs a solution on one day, or day after day, is measured against
what the solution's reviewers said before; an outlier never joins the consensus that judges the
next ones. The first reviews of a solution are never outliers.

The verdict is stored on the review (`Review.outlier`), refreshed for the whole solution each
time one of its reviews is written, so that the ledger (Python and set-based) and the fitness
statement read one column; `reviews_mark_outliers(None)` refreshes every solution's, as the
full rebuild does before it derives the lines."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC
from decimal import Decimal
from statistics import median

from django.db import transaction

from challenges.models import Solution

from . import rules as rules_module
from .models import Review


def outlier_ids(reviews: Iterable[tuple[int, object, Decimal]]) -> set[int]:
    """The outliers among one solution's reviews, given as (id, last written at, mean score)."""
    config = rules_module.review_outliers()
    by_day: dict[object, list[tuple[int, Decimal]]] = defaultdict(list)
    for pk, written_at, mean in reviews:
        by_day[written_at.astimezone(UTC).date()].append((pk, Decimal(mean)))
    counted: list[Decimal] = []
    outliers = set()
    for day in sorted(by_day):
        consensus = median(counted) if len(counted) >= max(1, config.min_earlier) else None
        kept = []
        for pk, mean in by_day[day]:
            if consensus is not None and abs(mean - consensus) >= config.gap:
                outliers.add(pk)
            else:
                kept.append(mean)
        counted.extend(kept)
    return outliers


@transaction.atomic(savepoint=False)
def reviews_mark_outliers(solution_ids=None) -> set[int]:
    """Store the verdict on the reviews of these solutions (of every solution when None), the
    solutions' rows locked so that two saves of their reviews take turns. Returns the solutions
    whose reviews' verdicts changed."""
    reviews = Review.objects.all()
    if solution_ids is not None:
        solution_ids = sorted(set(solution_ids))
        list(
            Solution.objects.select_for_update()
            .filter(pk__in=solution_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        reviews = reviews.filter(solution_id__in=solution_ids)
    per_solution: dict[int, list] = defaultdict(list)
    stored: dict[int, bool] = {}
    rows = reviews.order_by("solution_id", "pk").values_list(
        "pk", "solution_id", "updated_at", "mean_score", "outlier"
    )
    # The whole table in chunks (a server-side cursor on PostgreSQL); a few solutions' reviews
    # in one plain read.
    rows = rows.iterator(chunk_size=5000) if solution_ids is None else rows
    for pk, solution_id, written_at, mean, outlier in rows:
        per_solution[solution_id].append((pk, written_at, mean))
        stored[pk] = outlier
    now_outliers: set[int] = set()
    for rows_of_one in per_solution.values():
        if len(rows_of_one) > 1:
            now_outliers |= outlier_ids(rows_of_one)
    flip_on = [pk for pk, was in stored.items() if not was and pk in now_outliers]
    flip_off = [pk for pk, was in stored.items() if was and pk not in now_outliers]
    changed = set()
    for ids, value in ((flip_on, True), (flip_off, False)):
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            Review.objects.filter(pk__in=chunk).update(outlier=value)
            changed |= set(
                Review.objects.filter(pk__in=chunk).values_list("solution_id", flat=True)
            )
    return changed
