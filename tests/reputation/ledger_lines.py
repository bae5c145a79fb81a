"""Crafted ledger lines for leaderboard and chart tests: one line per call, a fresh fact key
each time unless `key` is given."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from reputation.models import ReputationEvent

_keys = itertools.count(1)


def day(days_ago: int) -> datetime:
    """Noon UTC, `days_ago` days before today: never on the edge of a UTC day."""
    today = timezone.now().astimezone(UTC).date() - timedelta(days=days_ago)
    return datetime(today.year, today.month, today.day, 12, tzinfo=UTC)


def line(member, amount, *, days_ago=0, solution=None, capped=False, key=None, seq=1):
    return ReputationEvent.objects.create(
        beneficiary=member,
        kind=(ReputationEvent.Kind.UPVOTE_RECEIVED if capped else ReputationEvent.Kind.FORKED),
        fact_key=key or f"test:{next(_keys)}",
        seq=seq,
        amount=Decimal(str(amount)),
        fact_at=day(days_ago),
        solution=solution,
        capped=capped,
    )
