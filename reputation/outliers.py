"""Review bombing (issue 23): a review far from the consensus of the reviews before it, or,
without them, of the solution's voters, counts nothing.

A solution's reviews are read in the order of the UTC day they were last written. The consensus
on a day is the median mean score of the reviews written on earlier days that counted; a review
whose mean lies `gap` points or more from it (rules.review_outliers), once at least
`min_earlier` earlier reviews make a consensus, is an outlier. Reviews of one day never judge
each other, so a group that bombs a solution on one day, or day after day, is measured against
what the solution's reviewers said before; an outlier never joins the consensus that judges the
next ones.

A review that no earlier reviews can judge (the solution's first, or the first after its
earlier ones were set aside) is judged by the solution's voters instead, when there are enough
of them: the votes last cast before the review's UTC day by members other than its reviewer,
at least `min_votes` of them, make the consensus 1 + 4 x their share of upvotes (all up: 5,
all down: 1), and a review `vote_gap` (3.5) points or more from it is an outlier. Votes are
coarse (members upvote what they like and mostly leave the rest, so an honest 2 or 3 on a
solution all its voters upvoted is common): the voters judge only the lowest marks on what
nearly all of them liked, or the highest on what nearly all disliked. A group that bombs a
well-voted solution nobody had reviewed yet is measured against what its voters said; a first
review of a solution few have voted on always counts. Changing or withdrawing a vote
refreshes its solution's verdicts (a new vote is of today, so it judges only reviews of later
days).

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
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate

from challenges.models import Solution

from . import rules as rules_module
from .models import Review, Vote


def outlier_ids(
    reviews: Iterable[tuple],
    vote_days: Iterable[tuple[object, int, int]] = (),
    own_votes: dict[int, tuple[int, object]] | None = None,
) -> set[int]:
    """The outliers among one solution's reviews, given as (id, last written at, mean score[,
    reviewer id]); `vote_days` are the solution's votes counted by the UTC day they were last
    cast, (day, upvotes, votes), and `own_votes` each reviewer's own vote, {reviewer: (value,
    day)}, which does not judge their review."""
    config = rules_module.review_outliers()
    own_votes = own_votes or {}
    vote_days = sorted(vote_days)
    by_day: dict[object, list[tuple[int, Decimal, int | None]]] = defaultdict(list)
    for pk, written_at, mean, *reviewer in reviews:
        by_day[written_at.astimezone(UTC).date()].append(
            (pk, Decimal(mean), reviewer[0] if reviewer else None)
        )
    counted: list[Decimal] = []
    outliers = set()
    for day in sorted(by_day):
        consensus = median(counted) if len(counted) >= max(1, config.min_earlier) else None
        ups = sum(up for vote_day, up, _ in vote_days if vote_day < day)
        votes = sum(n for vote_day, _, n in vote_days if vote_day < day)
        kept = []
        for pk, mean, reviewer in by_day[day]:
            judge, gap = consensus, config.gap
            if judge is None:
                judge = _voters_consensus(ups, votes, own_votes.get(reviewer), day, config)
                gap = config.vote_gap
            if judge is not None and abs(mean - judge) >= gap:
                outliers.add(pk)
            else:
                kept.append(mean)
        counted.extend(kept)
    return outliers


def _voters_consensus(ups: int, votes: int, own, day, config) -> Decimal | None:
    """1 + 4 x the share of upvotes among the votes before `day`, less the reviewer's own."""
    if own is not None and own[1] < day:
        ups -= 1 if own[0] > 0 else 0
        votes -= 1
    if votes < max(1, config.min_votes):
        return None
    return 1 + 4 * Decimal(ups) / Decimal(votes)


def _votes_of(solution_ids) -> tuple[dict, dict]:
    """For these solutions (or all): their votes counted by the UTC day they were last cast,
    {solution: [(day, upvotes, votes)]}, and the votes of their reviewers on them,
    {solution: {reviewer: (value, day)}}: two grouped queries, not one row per vote."""
    votes = Vote.objects.all()
    if solution_ids is not None:
        votes = votes.filter(solution_id__in=solution_ids)
    day = TruncDate("updated_at", tzinfo=UTC)
    per_day: dict[int, list] = defaultdict(list)
    for solution_id, vote_day, ups, n in (
        votes.annotate(day=day)
        .values("solution_id", "day")
        .annotate(ups=Count("pk", filter=Q(value=Vote.UP)), n=Count("pk"))
        .values_list("solution_id", "day", "ups", "n")
        .order_by()
    ):
        per_day[solution_id].append((vote_day, ups, n))
    own: dict[int, dict] = defaultdict(dict)
    reviewed = Review.objects.filter(
        solution_id=OuterRef("solution_id"), reviewer_id=OuterRef("voter_id")
    )
    for solution_id, voter_id, value, vote_day in (
        votes.filter(Exists(reviewed))
        .annotate(day=day)
        .values_list("solution_id", "voter_id", "value", "day")
        .order_by()
    ):
        own[solution_id][voter_id] = (value, vote_day)
    return per_day, own


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
        "pk", "solution_id", "updated_at", "mean_score", "outlier", "reviewer_id"
    )
    # The whole table in chunks (a server-side cursor on PostgreSQL); a few solutions' reviews
    # in one plain read.
    rows = rows.iterator(chunk_size=5000) if solution_ids is None else rows
    for pk, solution_id, written_at, mean, outlier, reviewer_id in rows:
        per_solution[solution_id].append((pk, written_at, mean, reviewer_id))
        stored[pk] = outlier
    vote_days, own_votes = _votes_of(solution_ids)
    now_outliers: set[int] = set()
    for solution_id, rows_of_one in per_solution.items():
        now_outliers |= outlier_ids(
            rows_of_one, vote_days.get(solution_id, ()), own_votes.get(solution_id)
        )
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
