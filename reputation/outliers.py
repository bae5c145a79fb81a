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

# The SQL below names tables from the models; every value is a parameter.
# ruff: noqa: S608

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date
from decimal import Decimal
from statistics import median

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, When
from django.db.models.functions import TruncDate

from challenges.models import Solution
from peerhub.statements import Compiled

from . import rules as rules_module
from .models import Review, Vote


def outlier_ids(
    reviews: Iterable[tuple],
    vote_days: Iterable[tuple[object, int, int]] | Callable = (),
    own_votes: dict[int, tuple[int, object]] | None = None,
    config: rules_module.ReviewOutliers | None = None,
) -> set[int]:
    """The outliers among one solution's reviews, given as (id, last written at, mean score[,
    reviewer id]); `vote_days` are the solution's votes counted by the UTC day they were last
    cast, (day, upvotes, votes), or a function of a day giving (upvotes, votes) of those cast
    before it, asked only for the days its voters judge a review; and `own_votes` each
    reviewer's own vote, {reviewer: (value, day)}, which does not judge their review.
    `config` is rules.review_outliers(), read once by a caller judging many solutions."""
    config = config or rules_module.review_outliers()
    own_votes = own_votes or {}
    votes_before = vote_days if callable(vote_days) else _votes_before(vote_days)
    by_day: dict[object, list[tuple[int, Decimal, int | None]]] = defaultdict(list)
    for pk, written_at, mean, *reviewer in reviews:
        by_day[written_at.astimezone(UTC).date()].append(
            (pk, Decimal(mean), reviewer[0] if reviewer else None)
        )
    counted: list[Decimal] = []
    outliers = set()
    for day in sorted(by_day):
        consensus = median(counted) if len(counted) >= max(1, config.min_earlier) else None
        tally = None
        kept = []
        for pk, mean, reviewer in by_day[day]:
            judge, gap = consensus, config.gap
            if judge is None:
                tally = tally or votes_before(day)
                judge = _voters_consensus(*tally, own_votes.get(reviewer), day, config)
                gap = config.vote_gap
            if judge is not None and abs(mean - judge) >= gap:
                outliers.add(pk)
            else:
                kept.append(mean)
        counted.extend(kept)
    return outliers


def _votes_before(vote_days) -> Callable:
    """(upvotes, votes) cast before a day, from the votes counted per day."""
    vote_days = sorted(vote_days)

    def before(day) -> tuple[int, int]:
        earlier = [(up, n) for vote_day, up, n in vote_days if vote_day < day]
        return sum(up for up, _ in earlier), sum(n for _, n in earlier)

    return before


def _voters_consensus(ups: int, votes: int, own, day, config) -> Decimal | None:
    """1 + 4 x the share of upvotes among the votes before `day`, less the reviewer's own."""
    if own is not None and own[1] < day:
        ups -= 1 if own[0] > 0 else 0
        votes -= 1
    if votes < max(1, config.min_votes):
        return None
    return 1 + 4 * Decimal(ups) / Decimal(votes)


def _utc_day() -> TruncDate:
    return TruncDate("updated_at", tzinfo=UTC)


def _votes_by_day(solution_ids, reviewer_ids):
    """The votes on these solutions per solution, UTC day and value, a vote by one of
    `reviewer_ids` in a group of its own (`who`)."""
    who = Case(When(voter_id__in=reviewer_ids, then=F("voter_id")), default=None)
    return (
        Vote.objects.filter(solution_id__in=solution_ids)
        .annotate(day=_utc_day(), who=who)
        .values("solution_id", "day", "who", "value")
        .annotate(n=Count("pk"))
        .values_list("solution_id", "day", "who", "value", "n")
        .order_by()
    )


# A review's save reads one solution's rows: compiled once (peerhub.statements).
_VOTES_BY_DAY = Compiled(Vote, _votes_by_day)
_LOCK_SOLUTIONS = Compiled(
    Solution,
    lambda ids: (
        Solution.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    ),
    write=True,
)
_REVIEWS_OF = Compiled(
    Review,
    lambda ids: (
        Review.objects.filter(solution_id__in=ids)
        .order_by("solution_id", "pk")
        .values_list("pk", "solution_id", "updated_at", "mean_score", "outlier", "reviewer_id")
    ),
)


def _votes_of(solution_ids, reviewers: dict[int, set[int]] | None = None) -> tuple[dict, dict]:
    """For these solutions (or all): their votes counted by the UTC day they were last cast,
    {solution: [(day, upvotes, votes)]}, and the votes of their reviewers on them,
    {solution: {reviewer: (value, day)}}. For all: two grouped queries, not one row per vote.
    For a few solutions whose `reviewers` the caller has read (a review's save): one grouped
    query, a row per day and value and one per reviewer's vote."""
    votes = Vote.objects.all()
    per_day: dict[int, list] = defaultdict(list)
    own: dict[int, dict] = defaultdict(dict)
    if solution_ids is not None and reviewers is not None:
        # One grouped read: the votes per solution, day and value, with a reviewer's own vote
        # in a group of its own (a reviewer's vote on another of these solutions too, counted
        # below like any other).
        everyone = sorted(set().union(*reviewers.values()))
        tallies: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for solution_id, vote_day, voter_id, value, n in _VOTES_BY_DAY.rows(solution_ids, everyone):
            tally = tallies[(solution_id, vote_day)]
            tally[0] += n if value == Vote.UP else 0
            tally[1] += n
            if voter_id is not None and voter_id in reviewers.get(solution_id, ()):
                own[solution_id][voter_id] = (value, vote_day)
        for (solution_id, vote_day), (ups, n) in tallies.items():
            per_day[solution_id].append((vote_day, ups, n))
        return per_day, own
    if solution_ids is not None:
        votes = votes.filter(solution_id__in=solution_ids)
    for solution_id, vote_day, ups, n in (
        votes.annotate(day=_utc_day())
        .values("solution_id", "day")
        .annotate(ups=Count("pk", filter=Q(value=Vote.UP)), n=Count("pk"))
        .values_list("solution_id", "day", "ups", "n")
        .order_by()
    ):
        per_day[solution_id].append((vote_day, ups, n))
    return per_day, _own_votes(solution_ids)


def _own_votes(solution_ids) -> dict[int, dict]:
    """The votes of these solutions' (or all solutions') reviewers on them,
    {solution: {reviewer: (value, day)}}."""
    votes = Vote.objects.all()
    if solution_ids is not None:
        votes = votes.filter(solution_id__in=solution_ids)
    reviewed = Review.objects.filter(
        solution_id=OuterRef("solution_id"), reviewer_id=OuterRef("voter_id")
    )
    own: dict[int, dict] = defaultdict(dict)
    for solution_id, voter_id, value, vote_day in (
        votes.filter(Exists(reviewed))
        .annotate(day=_utc_day())
        .values_list("solution_id", "voter_id", "value", "day")
        .order_by()
    ):
        own[solution_id][voter_id] = (value, vote_day)
    return own


class _Unread(Exception):
    """A verdict needs the votes before a day that were not read yet (`_verdicts_everywhere`)."""

    def __init__(self, day):
        super().__init__(day)
        self.day = day


def _votes_before_days(pairs: list[tuple[int, date]]) -> dict[tuple[int, date], tuple[int, int]]:
    """For each (solution, UTC day): the upvotes and the votes on it last cast before that day,
    in one statement. PostgreSQL."""
    vote = Vote._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT d.solution_id, d.day, COUNT(v.id) FILTER (WHERE v.value = %s), COUNT(v.id)
            FROM unnest(CAST(%s AS BIGINT[]), CAST(%s AS DATE[])) AS d (solution_id, day)
            LEFT JOIN {vote} v ON v.solution_id = d.solution_id
                AND v.updated_at < CAST(d.day AS TIMESTAMP) AT TIME ZONE 'UTC'
            GROUP BY d.solution_id, d.day
            """,
            [Vote.UP, [pk for pk, _ in pairs], [day for _, day in pairs]],
        )
        return {(pk, day): (ups, n) for pk, day, ups, n in cursor.fetchall()}


def _verdicts_everywhere(per_solution: dict[int, list], solution_ids=None) -> set[int]:
    """Every solution's outliers (or these solutions', many of them: a partition of a fanned-out
    rebuild), reading only the votes the verdicts ask for (PostgreSQL):
    voters judge a review only until earlier reviews make a consensus, which is mostly the
    solution's first day of reviews. So the votes before each solution's first review day are
    read first, in one statement, and the few solutions whose verdicts then ask for a later day
    (every review of that first day was an outlier) are read again for it, and so on. With a
    million votes this reads one row per reviewed solution instead of one per day votes were
    cast on it."""
    own, config = _own_votes(solution_ids), rules_module.review_outliers()
    pending = {
        solution_id: min(written_at.astimezone(UTC).date() for _, written_at, *_ in rows)
        for solution_id, rows in per_solution.items()
    }
    known: dict[tuple[int, date], tuple[int, int]] = {}
    found: set[int] = set()
    while pending:
        known.update(_votes_before_days(sorted(pending.items())))
        asked = {}
        for solution_id in pending:

            def before(day, solution_id=solution_id):
                if (solution_id, day) not in known:
                    raise _Unread(day)
                return known[(solution_id, day)]

            try:
                found |= outlier_ids(
                    per_solution[solution_id], before, own.get(solution_id), config
                )
            except _Unread as unread:
                asked[solution_id] = unread.day
        pending = asked
    return found


# Up to this many solutions, a refresh reads their votes as a review's save does.
_FEW = 50


@transaction.atomic(savepoint=False)
def reviews_mark_outliers(solution_ids=None) -> set[int]:
    """Store the verdict on the reviews of these solutions (of every solution when None), the
    solutions' rows locked so that two saves of their reviews take turns. Returns the solutions
    whose reviews' verdicts changed."""
    per_solution: dict[int, list] = defaultdict(list)
    stored: dict[int, bool] = {}
    solution_of: dict[int, int] = {}
    if solution_ids is None:
        # The whole table in chunks (a server-side cursor on PostgreSQL).
        rows = (
            Review.objects.order_by("solution_id", "pk")
            .values_list("pk", "solution_id", "updated_at", "mean_score", "outlier", "reviewer_id")
            .iterator(chunk_size=5000)
        )
    else:
        # A few solutions' reviews in one plain read, once their rows are locked.
        solution_ids = sorted(set(solution_ids))
        _LOCK_SOLUTIONS.rows(solution_ids)
        rows = _REVIEWS_OF.rows(solution_ids)
    for pk, solution_id, written_at, mean, outlier, reviewer_id in rows:
        per_solution[solution_id].append((pk, written_at, mean, reviewer_id))
        stored[pk] = outlier
        solution_of[pk] = solution_id
    reviewers: dict[int, set[int]] | None = None
    if solution_ids is not None:
        # Only the reviewed ones have verdicts to give, so only their votes are read.
        reviewers = {
            solution_id: {row[3] for row in rows_of_one}
            for solution_id, rows_of_one in per_solution.items()
        }
        solution_ids = sorted(reviewers)
    now_outliers: set[int] = set()
    if connection.vendor == "postgresql" and (solution_ids is None or len(solution_ids) > _FEW):
        # Many solutions: the full pass's reads. (The grouped read below, made for a review's
        # save, sets each reviewer's vote apart by a list of every reviewer: with thousands of
        # solutions, a list of tens of thousands of members checked against every vote.)
        now_outliers = _verdicts_everywhere(per_solution, solution_ids)
    else:
        vote_days, own_votes = _votes_of(solution_ids, reviewers) if per_solution else ({}, {})
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
            changed |= {solution_of[pk] for pk in chunk}
    return changed
