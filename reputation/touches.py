"""What the nightly rebuild checks: everything, or only what changed since its last run.

On PostgreSQL, triggers write a touch (`LedgerTouch`) in the very statement that changes a fact
the ledger's lines derive from, whoever changed it (a service, the admin, a queryset update,
SQL): a vote or a review names its solution; a solution whose author, status or place in a
lineage changed names itself, its descendants and its parent; an upstream proposal its two
solutions; an email address its member; a changed or deleted ledger line, everything (migration
reputation 0023). A run records what it derived with (`LedgerCheck`): the next one checks the
solutions those touches name (`plan`), the solutions of members whose trust flags differ
between the two runs' trust snapshots, and those of lines appended since; the board rows of
the members its own corrections credit (the syncs keep those of their own lines), and their
scores and the touched members'; and deletes the touches it read (`finish`).

Everything is checked, as before, when there is no earlier run, the rules or the derivation
changed (`fingerprint`), the last whole check is older than
settings.PEERHUB_LEDGER_WHOLE_CHECK_DAYS, a ledger line was changed or deleted, more than a
fifth of the solutions (and more than a thousand) are named, or the database has no triggers
(SQLite). The weekly whole check is what still catches what no trigger sees: a board row or a
score changed by hand, or a change in code that derives lines without a bump of `DERIVATION`."""

# The statements are built from table names (model meta) only; every value is a parameter.
# ruff: noqa: S608

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from challenges.models import Solution, UpstreamProposal

from . import rules as rules_module
from .models import (
    LedgerCheck,
    LedgerTouch,
    MemberTrust,
    ReputationEvent,
    Review,
    TrustSnapshot,
    Vote,
)

# Bump when a change to how lines are derived must be checked for every solution next night.
DERIVATION = 1
# Above this many touches, or this share of the solutions named (and more than a few), a whole
# check is cheaper than naming what to check.
MAX_TOUCHES = 50_000
MAX_SHARE = 0.2
FEW = 1000


def fingerprint(rules: rules_module.Rules) -> str:
    """What a run derived with: the rules in force, the trust levels' thresholds (which the
    scores' fold reads) and the version of the derivation."""
    levels = sorted(rules_module.trust_thresholds().items())
    return hashlib.sha256(f"{DERIVATION}:{rules!r}:{levels}".encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    """`reason` says why everything is checked (empty: only `solutions`, sorted, and the scores
    of `members`, whose address or trust changed, besides those the run's corrections credit).
    `since_line` is the last line the previous run saw (lines after it name their solutions);
    `read`, the touches to delete once done, or `up_to`, every touch up to that id (when there
    were too many to name)."""

    reason: str
    solutions: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    since_line: int = 0
    read: list[int] = field(default_factory=list)
    up_to: int = 0

    @property
    def whole(self) -> bool:
        return bool(self.reason)


def plan(rules: rules_module.Rules, snapshot_id: int | None, *, whole: str = "") -> Plan:
    """What this run checks (see the module's docstring); `whole`, a reason to check everything
    given by the caller. Read-only."""
    touches = list(
        LedgerTouch.objects.order_by("pk").values_list(
            "pk", "solution_id", "member_id", "lineage", "whole"
        )[: MAX_TOUCHES + 1]
    )
    read = [row[0] for row in touches]
    if len(touches) > MAX_TOUCHES:
        up_to = LedgerTouch.objects.order_by("-pk").values_list("pk", flat=True).first()
        return Plan(f"more than {MAX_TOUCHES} changes", up_to=up_to)
    last = LedgerCheck.objects.order_by("-ran_at", "-pk").first()
    reason = whole or _why_whole(last, rules, snapshot_id, touches)
    if reason:
        return Plan(reason, read=read)
    members = {row[2] for row in touches if row[2] is not None}
    if last.snapshot_id != snapshot_id:
        members |= _flags_changed(last.snapshot_id, snapshot_id)
    solutions = _named(
        solutions={row[1] for row in touches if row[1] is not None},
        lineage={row[1] for row in touches if row[1] is not None and row[3]},
        members=members,
        since_line=last.last_line_id,
    )
    if len(solutions) > max(FEW, MAX_SHARE * Solution.objects.count()):
        return Plan(f"{len(solutions)} solutions changed", read=read)
    return Plan(
        "",
        solutions=solutions,
        members=sorted(members),
        since_line=last.last_line_id,
        read=read,
    )


def _why_whole(last: LedgerCheck | None, rules, snapshot_id: int | None, touches) -> str:
    """Why this run must check everything, or empty."""
    if connection.vendor != "postgresql":
        return "no triggers on this database"
    last_whole = LedgerCheck.objects.filter(whole=True).order_by("-ran_at", "-pk").first()
    if last is None or last_whole is None:
        return "no earlier check"
    if last.rules != fingerprint(rules):
        return "the rules changed"
    days = settings.PEERHUB_LEDGER_WHOLE_CHECK_DAYS
    if last_whole.ran_at < timezone.now() - timedelta(days=days):
        return f"the last whole check is older than {days:g} days"
    if any(row[4] for row in touches):
        return "a ledger line was changed or deleted"
    if (
        last.snapshot_id not in (None, snapshot_id)
        and not TrustSnapshot.objects.filter(pk=last.snapshot_id).exists()
    ):
        return "the last check's trust snapshot is gone"
    return ""


def _flags_changed(was: int | None, now: int | None) -> set[int]:
    """The members whose low-trust or voting-ring flag (what lines read of a snapshot) differs
    between the two trust snapshots (None: nobody flagged)."""
    table = MemberTrust._meta.db_table
    flagged = (
        f"SELECT user_id, low_trust, voting_ring FROM {table} "
        "WHERE snapshot_id = %s AND (low_trust OR voting_ring)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(a.user_id, b.user_id) FROM ({flagged}) a FULL JOIN ({flagged}) b "
            "ON b.user_id = a.user_id WHERE a.user_id IS NULL OR b.user_id IS NULL "
            "OR a.low_trust <> b.low_trust OR a.voting_ring <> b.voting_ring",
            [-1 if was is None else was, -1 if now is None else now],
        )
        return {row[0] for row in cursor.fetchall()}


def _named(
    *, solutions: set[int], lineage: set[int], members: set[int], since_line: int
) -> list[int]:
    """The solutions whose lines may have changed: those touched; the descendants of those
    whose lineage changed and of the members' own (lineage credit reads its ancestors' authors
    and statuses) and the parents of the members' own (`forked:` lines); the solutions the
    members voted on, reviewed or proposed upstream to; and those of lines appended after
    `since_line` (by syncs, whose facts are touched too, or by anyone else). One statement."""
    solution, vote, review = Solution._meta.db_table, Vote._meta.db_table, Review._meta.db_table
    upstream, event = UpstreamProposal._meta.db_table, ReputationEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE m AS (SELECT unnest(%(members)s::bigint[]) AS id),
            own AS (SELECT s.id, s.parent_id FROM {solution} s JOIN m ON s.author_id = m.id),
            down (id) AS (
                SELECT unnest(%(lineage)s::bigint[]) UNION SELECT id FROM own
                UNION
                SELECT c.id FROM {solution} c JOIN down d ON c.parent_id = d.id
            )
            SELECT unnest(%(solutions)s::bigint[])
            UNION SELECT id FROM down
            UNION SELECT parent_id FROM own WHERE parent_id IS NOT NULL
            UNION SELECT v.solution_id FROM {vote} v JOIN m ON v.voter_id = m.id
            UNION SELECT r.solution_id FROM {review} r JOIN m ON r.reviewer_id = m.id
            UNION SELECT u.parent_id FROM {upstream} u JOIN m ON u.author_id = m.id
            UNION SELECT solution_id FROM {event}
                WHERE id > %(since)s AND solution_id IS NOT NULL
            """,
            {
                "members": sorted(members),
                "lineage": sorted(lineage),
                "solutions": sorted(solutions),
                "since": since_line,
            },
        )
        named = {row[0] for row in cursor.fetchall()}
    # A touched solution may be gone (deleted): its lines went with it.
    return sorted(Solution.objects.filter(pk__in=named).values_list("pk", flat=True))


def members_credited_since(line_id: int) -> list[int]:
    """The members credited by a line appended after `line_id`."""
    return sorted(
        ReputationEvent.objects.filter(pk__gt=line_id)
        .values_list("beneficiary_id", flat=True)
        .distinct()
    )


@transaction.atomic
def finish(
    done: Plan,
    rules: rules_module.Rules,
    snapshot_id: int | None,
    *,
    last_line_id: int,
    appended: int,
) -> LedgerCheck:
    """Record the run (`last_line_id`: the ledger's last line when it started) and delete the
    touches it read: those written since are the next run's."""
    if done.up_to:
        LedgerTouch.objects.filter(pk__lte=done.up_to).delete()
    for start in range(0, len(done.read), 10_000):
        LedgerTouch.objects.filter(pk__in=done.read[start : start + 10_000]).delete()
    return LedgerCheck.objects.create(
        whole=done.whole,
        reason=done.reason[:200],
        rules=fingerprint(rules),
        snapshot_id=snapshot_id,
        last_line_id=last_line_id,
        solutions=0 if done.whole else len(done.solutions),
        appended=appended,
    )
