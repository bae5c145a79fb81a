"""The leaderboards' read model: `ReputationDay`, the ledger netted per fact key and summed per
member, UTC day (of the key's latest line, the day the daily cap counts it in) and challenge
(none for lines about no solution). `gained` holds the capped keys that net positive, which
count up to the daily cap per member and day; `other` everything else, which counts in full.
A board is then one grouped read of these rows (`leaderboards.leaderboard`): days in the
period, challenges the viewer may see, the cap applied per member and day over those, never
the ledger itself. The 30-day board as everyone sees it (public challenges and lines about no
solution) is kept summed per member in `ReputationStanding`, ordered by an index, for those
who see no more than everyone. The cap stays the ledger's rule (`rules.rules().daily_vote_cap`); the
challenge is kept apart because the cap must see only the lines the viewer may see.

Kept exact at write time: `ledger_lines_appended(line_ids)` recomputes the member-days the
lines' keys counted in before and count in now (called by the ledger after each append; it
may run twice, it recomputes rather than adds). `rebuild()` derives the rows again from the
whole ledger, or for a range of member ids (the nightly rebuild). The standings count from a
day (`since`); the beat task `roll_window` writes them again every few minutes, so days fall
out of the window, and a board whose standings are stale (just after midnight UTC) reads the
days instead."""

# The SQL below is built from table names, SQL fragments of this module and compiled ORM
# queries; every value is a parameter.
# ruff: noqa: S608

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from challenges.models import Solution
from challenges.permissions import challenges_visible_to
from peerhub import bulk

from . import rules
from .models import ReputationDay, ReputationEvent, ReputationStanding

# The period boards kept as standings (what everyone sees), with their length in days.
PERIOD_DAYS = {"30d": 30}

# Above this many member-days, an append recomputes its members whole, in one statement.
MAX_CELLS = 64


def window_start(*, days: int) -> date:
    """The first UTC day of a period: today and the days before it, `days` in all."""
    return timezone.now().astimezone(UTC).date() - timedelta(days=days - 1)


def public_days() -> QuerySet[ReputationDay]:
    """The rows everyone may see counted: about no solution, or about a public challenge."""
    return ReputationDay.objects.filter(
        Q(challenge__isnull=True) | Q(challenge__in=challenges_visible_to(None).values("pk"))
    )


def period_sums_sql(days: QuerySet[ReputationDay], *, positive_only=True) -> tuple[str, list]:
    """SQL for [(member_id, score)] over these rows: per member and day the gains up to the
    daily cap plus the rest, summed per member; positive sums only unless not `positive_only`
    (the scores' fold, `ledger._fold_sql`). The one place SQL applies the ledger's cap."""
    per_day = (
        days.order_by()
        .values("member_id", "day")
        .annotate(gained_sum=Sum("gained"), other_sum=Sum("other"))
    )
    inner, params = per_day.query.sql_with_params()
    cap = format(Decimal(rules.rules().daily_vote_cap), "f")  # a number, parsed as one
    score = f"SUM(CASE WHEN d.gained_sum > {cap} THEN {cap} ELSE d.gained_sum END + d.other_sum)"
    sql = f"""
        SELECT d.member_id, {score} AS score FROM ({inner}) d
        GROUP BY d.member_id {f"HAVING {score} > 0" if positive_only else ""}
    """
    return sql, list(params)


def refresh_standings(member_ids=None, member_id_range=None) -> None:
    """Write the standings again from `ReputationDay`: of everyone, of these members, or of
    the members whose ids are in the inclusive range; each from today's period start."""
    for period, length in PERIOD_DAYS.items():
        since = window_start(days=length)
        days = public_days().filter(day__gte=since)
        stale = ReputationStanding.objects.filter(period=period)
        if member_ids is not None:
            member_ids = sorted(set(member_ids))
            days = days.filter(member_id__in=member_ids)
            stale = stale.filter(member_id__in=member_ids)
        elif member_id_range is not None:
            lo, hi = member_id_range
            days = days.filter(member_id__gte=lo, member_id__lte=hi)
            stale = stale.filter(member_id__gte=lo, member_id__lte=hi)
        sql, params = period_sums_sql(days)
        table = ReputationStanding._meta.db_table
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            stale._raw_delete(stale.db)
            cursor.execute(
                f"""INSERT INTO {table} (member_id, period, since, score)
                SELECT s.member_id, %s, %s, s.score FROM ({sql}) s""",
                [period, since, *params],
            )


def standings_current(period: str) -> bool:
    """Whether the period's standings all count from today's period start: none is stale, and
    some were written (none before the beat task first fills them)."""
    since = window_start(days=PERIOD_DAYS[period])
    first = ReputationStanding.objects.filter(period=period).aggregate(first=Min("since"))
    return first["first"] == since


def roll_window() -> None:
    """The beat task's work: every standing again from today's period start, so that the days
    falling out of the period leave the sums, and a challenge made private or public since
    counts as it is now."""
    refresh_standings()


def _day_of(column: str) -> str:
    """The UTC date of a timestamp column, in SQL."""
    if connection.vendor == "postgresql":
        return f"CAST(timezone('UTC', {column}) AS DATE)"
    return f"date({column})"


def _day_number(column: str) -> str:
    """Days from 2000-01-01 to a date column, as an integer, in SQL."""
    if connection.vendor == "postgresql":
        return f"({column} - DATE '2000-01-01')"
    return f"CAST(julianday({column}) - 2451544.5 AS INTEGER)"


def _keys_sql(where: str) -> str:
    """Per key among the ledger lines matching `where` (over `e`, whole keys only): columns
    member_id, capped, challenge_id, net and day, the UTC day of the key's latest line. Most
    keys hold one line (no correction yet): those are read as they are, and only the keys with
    a second line are grouped, which spares hashing every key. `where` appears twice: its
    parameters are given twice."""
    event, solution = ReputationEvent._meta.db_table, Solution._meta.db_table
    corrected = f"EXISTS (SELECT 1 FROM {event} c WHERE c.fact_key = e.fact_key AND c.seq = 2)"
    return f"""
        SELECT e.beneficiary_id AS member_id, e.capped, s.challenge_id, SUM(e.amount) AS net,
            {_day_of("MAX(e.fact_at)")} AS day
        FROM {event} e LEFT JOIN {solution} s ON s.id = e.solution_id
        WHERE ({where}) AND {corrected}
        GROUP BY e.beneficiary_id, e.fact_key, e.capped, s.challenge_id
        UNION ALL
        SELECT e.beneficiary_id, e.capped, s.challenge_id, e.amount, {_day_of("e.fact_at")}
        FROM {event} e LEFT JOIN {solution} s ON s.id = e.solution_id
        WHERE ({where}) AND e.seq = 1 AND NOT {corrected}
    """


# A key that counts towards the daily cap: capped and netting positive.
_GAIN = "k.capped AND k.net > 0"


def _derived_sql(where: str, keep: str = "") -> str:
    """The rows of the ledger lines matching `where` (`_keys_sql`; its parameters twice): each
    key netted on the UTC day of its latest line, a capped key that nets positive counting as
    gained, everything else in full; columns member_id, day, challenge_id, gained, other.
    `keep`, a condition over the key row `k`, drops the rows of member-days not being derived
    again."""
    return f"""
        SELECT k.member_id, k.day, k.challenge_id,
            SUM(CASE WHEN {_GAIN} THEN k.net ELSE 0 END) AS gained,
            SUM(CASE WHEN {_GAIN} THEN 0 ELSE k.net END) AS other
        FROM ({_keys_sql(where)}) k
        {f"WHERE {keep}" if keep else ""}
        GROUP BY k.member_id, k.day, k.challenge_id
    """


def _cents(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def _cell_weight(day: str, challenge: str, gained: str) -> str:
    """A row's weight in the check (`_members_to_derive`), from its day, its challenge and
    whether it holds gains (SQL true or false): from 2 to about two million, so that cents
    times weights, summed over a member, fit 64 bits."""
    cell = f"({_day_number(day)} * 7919 + COALESCE({challenge}, 0)) % 1000003"
    return f"({cell} * 2 + 2 + CASE WHEN {gained} THEN 1 ELSE 0 END)"


def _in_range(member_id_range) -> tuple[str, str]:
    """SQL for the members in the inclusive range of ids (everyone for None): over the ledger's
    lines `e`, and over the stored rows `d`."""
    if member_id_range is None:
        return "1 = 1", "1 = 1"
    lo, hi = (int(x) for x in member_id_range)
    return f"e.beneficiary_id BETWEEN {lo} AND {hi}", f"d.member_id BETWEEN {lo} AND {hi}"


def _members_to_derive(cursor, member_id_range) -> list[int]:
    """One read-only statement naming the members whose rows may differ from the ledger's: per
    member, the cents and the cents weighted by each row's day, challenge and side (gained or
    other, `_cell_weight`), from the ledger's keys against the same over the stored rows. Equal
    sums mean equal rows unless two rows' differences cancel in both sums at once; a row of 0
    and 0, which counts on no board, is not seen (the member's next line on that day derives it
    again). The ledger's side groups per member, not per member, day and challenge: that is
    what spares the nightly rebuild deriving every row (the ledger's own rebuild checks each
    solution's lines the same way, `ledger._solutions_to_correct_sql`)."""
    table = ReputationDay._meta.db_table
    where, within = _in_range(member_id_range)
    key_weight = _cell_weight("k.day", "k.challenge_id", _GAIN)
    gained_weight = _cell_weight("d.day", "d.challenge_id", "1 = 1")
    other_weight = _cell_weight("d.day", "d.challenge_id", "1 = 0")
    gained, other = _cents("d.gained"), _cents("d.other")
    cursor.execute(
        f"""SELECT member_id FROM (
            SELECT k.member_id, SUM(k.cents) AS cents, SUM(k.cents * {key_weight}) AS weighted
            FROM (
                SELECT member_id, capped, challenge_id, day, net, {_cents("net")} AS cents
                FROM ({_keys_sql(where)}) n
            ) k
            GROUP BY k.member_id
            UNION ALL
            SELECT d.member_id, -SUM({gained} + {other}),
                -SUM({gained} * {gained_weight} + {other} * {other_weight})
            FROM {table} d WHERE {within} GROUP BY d.member_id
        ) sides
        GROUP BY member_id HAVING SUM(cents) <> 0 OR SUM(weighted) <> 0
        ORDER BY member_id"""
    )
    return [row[0] for row in cursor.fetchall()]


_COLUMNS = "member_id, day, challenge_id, gained, other"


def _rebuild_sql(where: str, keep: str = "") -> str:
    """Insert the rows `_derived_sql` derives."""
    return f"INSERT INTO {ReputationDay._meta.db_table} ({_COLUMNS}) {_derived_sql(where, keep)}"


# Above this many members named by the check, the rebuild derives everyone (or the range)
# whole rather than name them in its statements (after a rebuild of an empty ledger: all).
MAX_NAMED = 5000
# `rebuild`'s default: the rows are checked first.
UNCHECKED = object()


def _stored(member_id_range) -> QuerySet[ReputationDay]:
    """The stored rows of the members in the inclusive range of ids (everyone for None)."""
    stored = ReputationDay.objects.all()
    if member_id_range is not None:
        lo, hi = member_id_range
        stored = stored.filter(member_id__gte=lo, member_id__lte=hi)
    return stored


def _check(cursor, member_id_range) -> list[int] | None:
    """The members whose rows may differ from the ledger's (`_members_to_derive`), or None for
    every one of them (in the range): when no rows are stored, every row is new, and there is
    nothing to compare them with."""
    if not _stored(member_id_range).exists():
        return None
    return _members_to_derive(cursor, member_id_range)


def check() -> list[int] | None:
    """`rebuild`'s check of everyone's rows, read-only, in a transaction of its own: what
    `rebuild(checked=...)` takes, for as long as no ledger line is appended after it (the
    syncs keep the rows and the ledger together, line by line; a rebuild's lines do not). The
    nightly rebuild runs it beside its checks of the solutions' lines."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
        return _check(cursor, None)


@transaction.atomic
def rebuild(
    member_id_range: tuple[int, int] | None = None, *, member_ids=None, checked=UNCHECKED
) -> None:
    """Derive the rows again from the ledger: of everyone, of the members whose ids are in the
    inclusive range, or of the given members. A rebuild of everyone or of a range first names
    the members whose rows may differ (`_check`; `checked`, `check`'s answer, spares that for
    everyone) and rewrites only theirs; it locks the table on PostgreSQL against the syncs'
    recomputes (they wait, then recompute over what it wrote). The given members' rebuild runs
    inside a sync that holds their score rows."""
    if member_ids is not None:
        member_ids = sorted(set(member_ids))
        if not member_ids:
            return
        where = f"e.beneficiary_id IN ({', '.join(['%s'] * len(member_ids))})"
        rows = ReputationDay.objects.filter(member_id__in=member_ids)
        rows._raw_delete(rows.db)
        with connection.cursor() as cursor:
            cursor.execute(_rebuild_sql(where), [*member_ids, *member_ids])
        refresh_standings(member_ids=member_ids)
        return
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"LOCK TABLE {ReputationDay._meta.db_table} IN EXCLUSIVE MODE")
            # Room to hash the ledger's keys in memory: this transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        named = _check(cursor, member_id_range) if checked is UNCHECKED else checked
        everyone = named is None or len(named) > MAX_NAMED
        if everyone and not _stored(member_id_range).exists():
            # Nothing stored to compare with (a first load): every derived row is written.
            _write_all(cursor, _in_range(member_id_range)[0])
        elif everyone:
            _rewrite_changed(cursor, *_in_range(member_id_range))
        elif named:
            ids = ", ".join(str(int(pk)) for pk in named)
            _rewrite_changed(cursor, f"e.beneficiary_id IN ({ids})", f"d.member_id IN ({ids})")
    # Rows written with the indexes away (a first load, `bulk.loading`) are read by their
    # indexes from here on: they are built now, in this transaction.
    bulk.restore_indexes(ReputationDay)
    # The standings of the members whose rows changed; all of them (or the range's) when many
    # changed or when the standings are not current (the beat task rolls them; until it first
    # has, a rebuild writes them).
    if everyone or not all(standings_current(p) for p in PERIOD_DAYS):
        refresh_standings(member_id_range=member_id_range)
    elif named:
        refresh_standings(member_ids=named)


_DERIVED = "peerhub_board_rebuild"  # a temporary table of the rebuild's connection


def _grouped_by_sorting(cursor, sql: str) -> None:
    """Run a statement that derives rows (`_derived_sql`) with its groups made by sorting, not
    hashing (PostgreSQL): nearly every line of a member on a day in a challenge is a row of its
    own (1.6M rows from 2.2M lines at 100,000 members), which a hash table holds only by
    spilling to disk (10-16 s against 5.3 s sorted), and the rows come out in the order the
    inserts write them."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        cursor.execute("SET LOCAL enable_hashagg = off")
    cursor.execute(sql)
    if postgres:
        cursor.execute("RESET enable_hashagg")


def _write_all(cursor, where: str) -> None:
    """Write the rows of the ledger lines matching `where` (over `e`) where none are stored:
    derived and inserted in one statement, in the order of the rows' indexes."""
    _grouped_by_sorting(cursor, f"{_rebuild_sql(where)} ORDER BY 1, 2")


def _rewrite_changed(cursor, where: str, within: str) -> None:
    """Derive the rows of the ledger lines matching `where` (over `e`) into a temporary table,
    then delete the stored rows matching `within` (over `d`) that differ from it (and any
    second row of one member-day and challenge) and insert the derived rows missing. The table
    ends as a delete-and-insert would leave it, but writes only what changed (a rewrite of
    every row also left as many dead rows behind each night). Both conditions are SQL built
    from integers."""
    table = ReputationDay._meta.db_table
    same_key = (
        "{a}.member_id = {b}.member_id AND {a}.day = {b}.day "
        "AND COALESCE({a}.challenge_id, 0) = COALESCE({b}.challenge_id, 0)"
    )
    cursor.execute(f"DROP TABLE IF EXISTS {_DERIVED}")
    _grouped_by_sorting(cursor, f"CREATE TEMPORARY TABLE {_DERIVED} AS {_derived_sql(where)}")
    postgres = connection.vendor == "postgresql"
    if postgres:
        # Its size, and hash joins, so that the comparisons below hash it (the planner,
        # multiplying the selectivities of the key's columns, expects a few rows and would
        # probe an index 50,000 times): until the end of the function.
        cursor.execute(f"ANALYZE {_DERIVED}")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    # Every row in the range that no derived row equals goes, and every second row of a key.
    cursor.execute(
        f"""DELETE FROM {table} WHERE id IN (
            SELECT x.id FROM (
                SELECT d.id, n.member_id AS derived, n.gained AS want_gained,
                    n.other AS want_other, d.gained, d.other,
                    ROW_NUMBER() OVER (
                        PARTITION BY d.member_id, d.day, COALESCE(d.challenge_id, 0) ORDER BY d.id
                    ) AS nth
                FROM {table} d LEFT JOIN {_DERIVED} n ON {same_key.format(a="n", b="d")}
                WHERE {within}
            ) x
            WHERE x.nth > 1 OR x.derived IS NULL
                OR x.want_gained <> x.gained OR x.want_other <> x.other)"""
    )
    # Then every derived row whose key has no row left.
    cursor.execute(
        f"""INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_DERIVED} n
        WHERE NOT EXISTS (SELECT 1 FROM {table} d WHERE {same_key.format(a="d", b="n")})
        ORDER BY n.member_id, n.day"""
    )
    cursor.execute(f"DROP TABLE {_DERIVED}")
    if postgres:  # the rest of the caller's transaction plans as it would have
        cursor.execute("RESET enable_nestloop")
        cursor.execute("RESET enable_mergejoin")


def ledger_lines_appended(line_ids) -> None:
    """Bring the rows in line with the ledger after these lines were appended: every member-day
    that a key of theirs counts in, before or now (any day one of its lines falls on), is
    derived again from the ledger. The caller holds the members' score rows locked
    (`ledger._lock_scores`), so two syncs of one member take turns."""
    line_ids = list(line_ids)
    if not line_ids:
        return
    keys = ReputationEvent.objects.filter(pk__in=line_ids).values("fact_key")
    lines = ReputationEvent.objects.filter(fact_key__in=keys).order_by()
    cells = {
        (row["beneficiary_id"], row["day"])
        for row in lines.values("beneficiary_id", day=TruncDate("fact_at", tzinfo=UTC)).distinct()
    }
    if not cells:
        return
    if len(cells) > MAX_CELLS:
        rebuild(member_ids={member_id for member_id, _day in cells})
        return
    # No savepoint inside the sync's transaction (a line saved alone gets one of its own).
    with transaction.atomic(savepoint=False):
        _recompute_cells(cells)
        refresh_standings(member_ids={member_id for member_id, _day in cells})


def _recompute_cells(cells: set[tuple[int, date]]) -> None:
    """Derive these member-days again (`_rebuild_sql`): from every key with a line on one of
    them, keeping the rows of the keys whose latest line falls on one of them."""
    ops, event = connection.ops, ReputationEvent._meta.db_table
    window, window_params, keep, keep_params = [], [], [], []
    stale = Q()
    for member_id, day in sorted(cells):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        window.append("(w.beneficiary_id = %s AND w.fact_at >= %s AND w.fact_at < %s)")
        window_params += [
            member_id,
            ops.adapt_datetimefield_value(start),
            ops.adapt_datetimefield_value(start + timedelta(1)),
        ]
        keep.append("(k.member_id = %s AND k.day = %s)")
        keep_params += [member_id, ops.adapt_datefield_value(day)]
        stale |= Q(member_id=member_id, day=day)
    where = f"e.fact_key IN (SELECT w.fact_key FROM {event} w WHERE {' OR '.join(window)})"
    ReputationDay.objects.filter(stale).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _rebuild_sql(where, " OR ".join(keep)), [*window_params, *window_params, *keep_params]
        )
