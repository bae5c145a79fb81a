"""Leaderboards: who earned the most reputation, all time, in the last 30 days, in one challenge,
or for one manifesto value. Reads only.

All time is the stored score (`ReputationScore.total`, the number every profile shows), ordered
and paginated in SQL. The other boards follow the score's own rule (`ledger.totals_from_ledger`):
lines netted per fact key, the positive vote reputation of a key counting in the UTC day of its
latest fact, up to the daily cap per member and day. They read the read model that the ledger's
syncs keep (`reputation.boards`: per member, day and challenge; the 30-day board as everyone
sees it stored per member), never the ledger: a fixed number of queries whatever its size.
`per_key_lines`, `fold_capped` and `capped_totals` are that rule over any set of lines, folded
in Python (the chart, and the oracle tests of the boards).

Privacy: on the ledger boards, a line about a solution counts only when the viewer may see the
solution's challenge (`challenges.permissions.challenges_visible_to`), so a private challenge's
activity never shows to those outside it. Lines about no solution (manifesto signatures) count
on the 30-day board only. The all-time board shows the stored total, which like the profile
includes everything; it says how much, never where from.

Only members with a positive score appear (all time: above the floor of 1 that everyone has);
ties are broken by username, so ranks are positions."""

# The SQL below is built from table names, SQL fragments of this module and compiled ORM
# queries; every value is a parameter.
# ruff: noqa: S608

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from django.db import connection
from django.db.models import F, Max, Q, QuerySet, Sum
from django.db.models.functions import Collate, TruncDate
from django.utils.translation import gettext_lazy as _

from challenges.models import Challenge
from challenges.permissions import challenges_visible_to
from peerhub.models import User, Value

from . import boards, rules
from .models import ReputationDay, ReputationEvent, ReputationScore, ReputationStanding

ALL_TIME, LAST_30_DAYS = "all", "30d"
PERIODS = {ALL_TIME: _("All time"), LAST_30_DAYS: _("Last 30 days")}
WINDOW_DAYS = 30


@dataclass(frozen=True)
class Standing:
    rank: int
    user: User
    score: Decimal

    @property
    def level(self) -> int:
        score = getattr(self.user, "reputation", None)
        return score.trust_level if score is not None else 0

    @property
    def level_name(self) -> str:
        return rules.LEVEL_NAMES.get(self.level, "")


def per_key_lines(events: QuerySet[ReputationEvent], *extra: str) -> QuerySet:
    """One row per fact key: its net amount and the UTC day of its latest fact."""
    return events.values("beneficiary_id", *extra, "fact_key", "capped").annotate(
        net=Sum("amount"), day=Max(TruncDate("fact_at", tzinfo=UTC))
    )


def fold_capped(rows, *, by) -> dict:
    """Fold per-key rows into totals keyed by `by(row)`: capped positive nets count up to the
    daily cap per member and day; everything else in full (the rule of
    `ledger.totals_from_ledger`)."""
    cap = rules.rules().daily_vote_cap
    totals: dict = defaultdict(Decimal)
    gains: dict = defaultdict(Decimal)
    for row in rows:
        if row["capped"] and row["net"] > 0:
            gains[(by(row), row["beneficiary_id"], row["day"])] += row["net"]
        else:
            totals[by(row)] += row["net"]
    for (key, _member, _day), gained in gains.items():
        totals[key] += min(cap, gained)
    return dict(totals)


def capped_totals(events: QuerySet[ReputationEvent], *, since: date | None = None):
    """Per member: the sum of these lines under the daily cap, in one query. With `since`, only
    fact keys whose day is on or after it count."""
    rows = per_key_lines(events)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return fold_capped(rows, by=lambda row: row["beneficiary_id"])


def window_start(*, days: int = WINDOW_DAYS) -> date:
    """The first UTC day of the window: today and the days before it, `days` in all."""
    return boards.window_start(days=days)


def _visible_lines(viewer) -> QuerySet[ReputationEvent]:
    """The lines a viewer may see counted: about no solution, or about a visible challenge.
    The old way to the boards, kept for the oracle test (tests/reputation/board_oracle.py)."""
    return ReputationEvent.objects.filter(
        Q(solution__isnull=True) | Q(solution__challenge__in=challenges_visible_to(viewer))
    )


def _cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _by_username(field: str):
    """Ties by username in code point order, as Python's sort did (not the locale's)."""
    if connection.vendor == "postgresql":
        return Collate(F(field), "C")
    return F(field)


def _active(field: str) -> Q:
    """Rows whose member (`field`) is active, as a test against the few deactivated members
    (index user_inactive): a join would read every member to count a board."""
    return ~Q(**{f"{field}_id__in": User.objects.filter(is_active=False).values("pk")})


class Board:
    """A ranked list the paginators slice: `len()` and `board[a:b]` → standings with ranks.
    All time and the 30-day board as everyone sees it: stored rows ordered in SQL (the scores,
    the standings), one query per page. The other ledger boards: one grouped query over the
    read model (`boards`) for the count, one for the page's members and their sums, one for
    those members with their scores."""

    def __init__(
        self,
        *,
        scores: QuerySet | None = None,
        standings: QuerySet | None = None,
        days: QuerySet | None = None,
    ):
        self._scores = scores  # all time: ReputationScore rows ordered in SQL
        self._standings = standings  # 30 days, public: ReputationStanding rows ordered in SQL
        self._days = days  # other ledger boards: the ReputationDay rows that count
        self._count: int | None = None

    def _ranked_sql(self) -> tuple[str, list]:
        sql, params = boards.period_sums_sql(self._days)
        user = User._meta.db_table
        return (
            f"""SELECT t.member_id, t.score, u.username FROM ({sql}) t
            INNER JOIN {user} u ON u.id = t.member_id WHERE u.is_active""",
            params,
        )

    def __len__(self) -> int:
        if self._count is None:
            if self._scores is not None:
                self._count = self._scores.count()
            elif self._standings is not None:
                self._count = self._standings.count()
            else:
                sql, params = self._ranked_sql()
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT COUNT(*) FROM ({sql}) r", params)
                    self._count = cursor.fetchone()[0]
        return self._count

    def __getitem__(self, item: slice) -> list[Standing]:
        start = item.start or 0
        if self._scores is not None:
            rows = list(self._scores[item])
            return [
                Standing(rank=start + i + 1, user=row.user, score=row.total)
                for i, row in enumerate(rows)
            ]
        if self._standings is not None:
            rows = list(self._standings[item])
            return [
                Standing(rank=start + i + 1, user=row.member, score=row.score)
                for i, row in enumerate(rows)
            ]
        stop = item.stop if item.stop is not None else len(self)
        if stop <= start:
            return []
        sql, params = self._ranked_sql()
        collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"{sql} ORDER BY t.score DESC, u.username{collate} LIMIT %s OFFSET %s",
                [*params, stop - start, start],
            )
            rows = [(member_id, _cents(score)) for member_id, score, _name in cursor.fetchall()]
        users = User.objects.select_related("reputation").in_bulk([uid for uid, _ in rows])
        return [
            Standing(rank=start + i + 1, user=users[uid], score=score)
            for i, (uid, score) in enumerate(rows)
        ]


def _sees_only_public(viewer) -> bool:
    """Whether the viewer sees no challenge beyond those everyone sees (no query when signed
    out)."""
    if viewer is None or not viewer.is_authenticated:
        return True
    public = challenges_visible_to(None).values("pk")
    return not challenges_visible_to(viewer).exclude(pk__in=public).exists()


def leaderboard(
    *,
    viewer,
    period: str = ALL_TIME,
    challenge: Challenge | None = None,
    value: Value | None = None,
) -> Board:
    """The board for a period (`all` or `30d`), optionally narrowed to one challenge (which the
    caller has checked the viewer may see) or to the challenges serving one value. The ledger
    boards read the read model of `reputation.boards`, which nets the ledger per key the way
    `per_key_lines` does, by the UTC day of each key's latest line: the 30-day board of those
    who see what everyone sees from the stored standings, the others from the days."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    if period == ALL_TIME and challenge is None and value is None:
        scores = (
            ReputationScore.objects.filter(_active("user"), total__gt=1)
            .select_related("user", "user__reputation")
            .order_by("-total", "user__username")
        )
        return Board(scores=scores)
    plain = challenge is None and value is None
    if (
        period == LAST_30_DAYS
        and plain
        and _sees_only_public(viewer)
        and boards.standings_current(period)
    ):
        standings = (
            ReputationStanding.objects.filter(_active("member"), period=period)
            .select_related("member", "member__reputation")
            .order_by("-score", _by_username("member__username"))
        )
        return Board(standings=standings)
    days = ReputationDay.objects.filter(
        Q(challenge__isnull=True) | Q(challenge__in=challenges_visible_to(viewer).values("pk"))
    )
    if challenge is not None:
        days = days.filter(challenge=challenge)
    if value is not None:
        days = days.filter(challenge__in=Challenge.objects.filter(values=value).values("pk"))
    if period == LAST_30_DAYS:
        days = days.filter(day__gte=window_start())
    return Board(days=days)


def board_challenges(viewer) -> QuerySet[Challenge]:
    """The challenges a viewer may pick a board for."""
    return challenges_visible_to(viewer).only("slug", "title").order_by("title")


def board_values() -> QuerySet[Value]:
    return Value.objects.only("slug", "name").order_by("position", "name")
