"""Serial voting (DESIGN.md, anti-abuse): many upvotes from one voter to one author's solutions in
a short window. The periodic job marks such votes (`Vote.serial_reversed_at`); the ledger then
derives nothing from them, so the next sync of their solutions appends corrections noted
"reversed: serial voting", which the member's history shows. Nothing is deleted: the votes stay,
and a full rebuild agrees with what the job did."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone

from . import ledger, rules
from .models import Vote

# How far back one run looks: a window that ended since the previous run (hourly) must be seen
# whole, so twice the window leaves ample room for a run or two that did not happen.
LOOKBACK_WINDOWS = 2


def serial_vote_candidates(*, now: datetime, votes: int, window: timedelta):
    """Upvotes cast in the lookback that lie in some window [t, t + window) holding at least
    `votes` upvotes from the same voter to the same author. Set-based: one statement, the
    windows found by correlated subqueries (portable to SQLite, used by the embedded setup)."""
    upvotes = Vote.objects.filter(
        value=Vote.UP,
        created_at__gt=now - LOOKBACK_WINDOWS * window,
        created_at__lte=now,
    )
    same_pair = upvotes.filter(
        voter_id=OuterRef("voter_id"), solution__author_id=OuterRef("solution__author_id")
    )
    # A window starts at each upvote; it is serial when it holds enough of the pair's upvotes
    # (those already reversed count too, so a late vote joining a serial run is caught).
    held_in_window = (
        same_pair.filter(
            created_at__gte=OuterRef("created_at"),
            created_at__lt=OuterRef("created_at") + window,
        )
        .order_by()
        .values("voter_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    serial_starts = upvotes.annotate(n=Subquery(held_in_window[:1])).filter(n__gte=votes)
    in_a_serial_window = serial_starts.filter(
        voter_id=OuterRef("voter_id"),
        solution__author_id=OuterRef("solution__author_id"),
        created_at__lte=OuterRef("created_at"),
        created_at__gt=OuterRef("created_at") - window,
    )
    return upvotes.filter(Exists(in_a_serial_window))


@transaction.atomic
def serial_votes_reverse(*, now: datetime | None = None) -> int:
    """Mark the serial upvotes not marked yet and sync their solutions' ledger lines, in one
    transaction, so a run that dies leaves neither marks without corrections nor the reverse.
    The conditional UPDATE (`serial_reversed_at IS NULL`) makes a second run change nothing;
    it returns how many votes this run reversed."""
    now = now or timezone.now()
    thresholds = rules.serial_voting()
    found = list(
        serial_vote_candidates(now=now, votes=thresholds.votes, window=thresholds.window)
        .filter(serial_reversed_at__isnull=True)
        .values_list("pk", "solution_id")
    )
    if not found:
        return 0
    reversed_count = Vote.objects.filter(
        pk__in=[pk for pk, _ in found], serial_reversed_at__isnull=True
    ).update(serial_reversed_at=now)
    if reversed_count:
        ledger.sync_solutions(sorted({solution_id for _, solution_id in found}))
    return reversed_count
