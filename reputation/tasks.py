"""Thin, idempotent tasks: each re-derives the ledger lines of its facts, so running twice, or
again after a worker died mid-run, converges to the same ledger."""

from celery import shared_task

from . import abuse, ledger, level_notices


@shared_task
def sync_solution_reputation(solution_id: int) -> int:
    touched = ledger.sync_solutions([solution_id])
    level_notices.trust_levels_announce(touched)
    return len(touched)


@shared_task
def sync_vote_reputation(solution_id: int, voter_id: int) -> int:
    touched = ledger.sync_vote(solution_id, voter_id)
    level_notices.trust_levels_announce(touched)
    return len(touched)


@shared_task
def sync_manifesto_reputation(user_id: int) -> int:
    touched = ledger.sync_manifesto([user_id])
    level_notices.trust_levels_announce(touched)
    return len(touched)


@shared_task
def recompute_reputation(batch_size: int | None = None) -> int:
    """Nightly full rebuild; returns the corrections it had to append (0 when all was right).
    Then any trust level a member reached without being told is announced (once per level)."""
    corrections = ledger.sync_everything(batch_size=batch_size)
    level_notices.trust_levels_announce(None)
    return corrections


@shared_task
def reverse_serial_votes() -> int:
    """Hourly: reverse the reputation of serial upvotes; returns how many votes it reversed."""
    return abuse.serial_votes_reverse()
