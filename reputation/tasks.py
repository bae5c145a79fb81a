"""Thin, idempotent tasks: each re-derives the ledger lines of its facts, so running twice, or
again after a worker died mid-run, converges to the same ledger."""

from celery import shared_task

from . import abuse, ledger


@shared_task
def sync_solution_reputation(solution_id: int) -> int:
    return len(ledger.sync_solutions([solution_id]))


@shared_task
def sync_vote_reputation(solution_id: int, voter_id: int) -> int:
    return len(ledger.sync_vote(solution_id, voter_id))


@shared_task
def sync_manifesto_reputation(user_id: int) -> int:
    return len(ledger.sync_manifesto([user_id]))


@shared_task
def recompute_reputation(batch_size: int | None = None) -> int:
    """Nightly full rebuild; returns the corrections it had to append (0 when all was right)."""
    return ledger.sync_everything(batch_size=batch_size)


@shared_task
def reverse_serial_votes() -> int:
    """Hourly: reverse the reputation of serial upvotes; returns how many votes it reversed."""
    return abuse.serial_votes_reverse()
