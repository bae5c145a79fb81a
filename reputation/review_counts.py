"""Each solution's review count, kept on its score row (`SolutionScore.review_count`) so that
the review queue (reputation.review_queue) reads one index instead of counting the reviews of
every solution a member may see (issue 23).

One place keeps it: `review_counts_refresh`, which the Review model's signals call
(reputation.signals) whenever a review is created (by `services.review_save`, or in the admin)
or deleted (in the admin, or with its solution or reviewer): it sets the count to the
solution's reviews, outliers included, so a second call changes nothing and a double submit
that reports "created" twice counts once.

A solution needs a score row to be listed: `score_row_ensure` gives a newly published solution
one before its first recompute (no rank, no components: the pages say "not ranked yet"), and a
recompute that inserts a row counts its reviews (reputation.fitness). A recompute never writes
the count of a row that exists.

Concurrency (PostgreSQL, read committed): the count is written in its own statement after the
row is locked, so a writer that waited for another's lock counts with a snapshot taken after
that one committed; counting in the locking statement would count with the snapshot taken
before the wait and could miss the other's review."""

# The SQL is built from table and column names (model meta); ids are query parameters.
# ruff: noqa: S608

import functools
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from challenges.models import Solution

from .models import Review, SolutionScore

__all__ = ["count_sql", "review_counts_refresh", "score_row_ensure"]


def count_sql(solution_column: str) -> str:
    """SQL: the number of reviews of the solution whose id is `solution_column`."""
    review = connection.ops.quote_name(Review._meta.db_table)
    column = connection.ops.quote_name(Review._meta.get_field("solution").column)
    return f"(SELECT COUNT(*) FROM {review} WHERE {review}.{column} = {solution_column})"


@functools.lru_cache(maxsize=64)
def _insert_sql(n_ids: int, *, lock: bool, vendor: str) -> str:
    """(Kept per length, lock and database vendor.) INSERT a score row, with no rank yet and
    its reviews counted, for each of `n_ids` solutions that has been published and has none;
    with `lock`, an existing row is locked instead (an ON CONFLICT DO UPDATE whose WHERE is
    false locks the row and writes nothing)."""
    qn = connection.ops.quote_name
    score, solution = qn(SolutionScore._meta.db_table), qn(Solution._meta.db_table)

    def column(name: str) -> str:
        return qn(SolutionScore._meta.get_field(name).column)

    def solution_column(name: str) -> str:
        return f"s.{qn(Solution._meta.get_field(name).column)}"

    columns = [
        "solution", "challenge", "fitness", "rank", "built_upon", "published_at", "is_root",
        "is_copy", "components", "computed_at", "review_count",
    ]  # fmt: skip
    values = [
        solution_column("id"), solution_column("challenge"), "0", "NULL", "0",
        solution_column("published_at"), f"{solution_column('parent')} IS NULL",
        solution_column("unchanged_fork"), "'{}'", "%s", count_sql(solution_column("id")),
    ]  # fmt: skip
    ids = ", ".join(["%s"] * n_ids)
    conflict = (
        f"DO UPDATE SET {column('review_count')} = {score}.{column('review_count')} WHERE 1 = 0"
        if lock
        else "DO NOTHING"
    )
    return (
        f"INSERT INTO {score} ({', '.join(column(name) for name in columns)}) "
        f"SELECT {', '.join(values)} FROM {solution} s "
        f"WHERE s.{qn('id')} IN ({ids}) AND {solution_column('published_at')} IS NOT NULL "
        f"ORDER BY s.{qn('id')} ON CONFLICT ({column('solution')}) {conflict}"
    )


def score_row_ensure(solution_ids: Iterable[int]) -> None:
    """A score row for each of these solutions that has been published and has none yet, its
    reviews counted: a newly published solution joins the review queue at once."""
    ids = sorted(set(solution_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        sql = _insert_sql(len(ids), lock=False, vendor=connection.vendor)
        cursor.execute(sql, [timezone.now(), *ids])


def review_counts_refresh(solution_ids: Iterable[int], *, create: bool = True) -> None:
    """Set the review count of each of these solutions to its reviews, their score rows
    locked first (in id order); with `create`, a published solution without a row gets one.
    Without it (a review deleted: its solution's row may be going in the same cascade, and
    must not come back), only existing rows are counted."""
    ids = sorted(set(solution_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        if create:
            sql = _insert_sql(len(ids), lock=True, vendor=connection.vendor)
            cursor.execute(sql, [timezone.now(), *ids])
        else:
            list(
                SolutionScore.objects.select_for_update()
                .filter(solution_id__in=ids)
                .order_by("solution_id")
                .values_list("pk", flat=True)
            )
        cursor.execute(_update_sql(len(ids), vendor=connection.vendor), ids)


@functools.lru_cache(maxsize=64)
def _update_sql(n_ids: int, *, vendor: str) -> str:
    """(Kept per length and database vendor.) UPDATE the review count of the score rows
    of `n_ids` solutions to their reviews."""
    qn = connection.ops.quote_name
    score = qn(SolutionScore._meta.db_table)
    solution = qn(SolutionScore._meta.get_field("solution").column)
    count = qn(SolutionScore._meta.get_field("review_count").column)
    ids = ", ".join(["%s"] * n_ids)
    return (
        f"UPDATE {score} SET {count} = {count_sql(f'{score}.{solution}')} "
        f"WHERE {solution} IN ({ids})"
    )
