"""Thin, idempotent tasks: each re-derives the ledger lines of its facts, so running twice, or
again after a worker died mid-run, converges to the same ledger. The per-fact syncs and
recomputes retry with a backoff when the database refuses them for a moment (a deadlock, a
serialization failure, a restart): those are OperationalErrors, and the rerun is safe."""

from celery import shared_task
from django.db import OperationalError

from . import abuse, boards, fitness, ledger, level_notices, rules, selection_credit, trust

# A sync the database refused for a moment (a deadlock, a serialization failure, a restart).
retried = shared_task(
    autoretry_for=(OperationalError,), retry_backoff=2, retry_backoff_max=120, max_retries=8
)


@retried
def sync_solution_reputation(solution_id: int) -> int:
    touched = ledger.sync_solutions([solution_id])
    level_notices.trust_levels_announce(touched)
    return len(touched)


@retried
def sync_descendants_reputation(solution_id: int) -> int:
    touched = ledger.sync_descendants(solution_id)
    level_notices.trust_levels_announce(touched)
    return len(touched)


@retried
def sync_vote_reputation(solution_id: int, voter_id: int) -> int:
    touched = ledger.sync_vote(solution_id, voter_id)
    level_notices.trust_levels_announce(touched)
    return len(touched)


@retried
def sync_manifesto_reputation(user_id: int) -> int:
    touched = ledger.sync_manifesto([user_id])
    level_notices.trust_levels_announce(touched)
    return len(touched)


@shared_task
def recompute_reputation(batch_size: int | None = None) -> int:
    """Nightly rebuild; returns the corrections it had to append (0 when all was right): of
    what changed since the last run (reputation.touches), or of everything when the weekly
    whole rebuild (`recompute_reputation_whole`) has not run for
    settings.PEERHUB_LEDGER_WHOLE_CHECK_DAYS or the rules changed. Then
    any trust level a member reached without being told is announced (once per level): of the
    members whose scores it folded."""
    run = ledger.sync_changed(batch_size=batch_size)
    level_notices.trust_levels_announce(run.folded)
    return run.appended


@shared_task
def recompute_reputation_whole(batch_size: int | None = None) -> int:
    """Weekly whole rebuild (beat): every solution's lines, every member's board rows and score
    checked against the facts, which catches what no trigger sees (a board row or a score
    edited by hand); returns the corrections it appended. Then any trust level a member reached
    without being told is announced."""
    corrections = ledger.sync_everything(batch_size=batch_size)
    level_notices.trust_levels_announce(None)
    return corrections


@shared_task
def roll_board_window() -> None:
    """Every few minutes: the 30-day standings again from today's window start (days that fell
    out of it leave; a challenge made private or public counts as it is now)."""
    boards.roll_window()


@shared_task
def reverse_serial_votes() -> int:
    """Hourly: reverse the reputation of serial upvotes; returns how many votes it reversed."""
    return abuse.serial_votes_reverse()


# --- Fitness and rankings (reputation.fitness) ------------------------------------------------

RANKINGS_PENDING = "peerhub:rankings-pending:{}"


def rankings_schedule(challenge_ids) -> int:
    """Queue one recompute per challenge, `debounce_seconds` from now, unless one is already
    waiting: many votes, reviews or forks within seconds make one recompute. The add-lock is
    released when the recompute starts, so changes that arrive during it queue the next one;
    it expires on its own should the queued task be lost."""
    from django.core.cache import cache

    from peerhub import outbox

    delay = rules.fitness().debounce_seconds
    queued = 0
    for challenge_id in sorted(set(challenge_ids)):
        if cache.add(RANKINGS_PENDING.format(challenge_id), 1, timeout=int(delay) + 300):
            outbox.enqueue(recompute_challenge_rankings, challenge_id, countdown=delay)
            queued += 1
    return queued


@retried
def rankings_after_change(solution_ids: list[int]) -> int:
    """A fact about these solutions changed: schedule their challenges and their ancestors'."""
    return rankings_schedule(fitness.challenges_affected_by(solution_ids))


@retried
def rankings_after_selection(challenge_id: int) -> int:
    """A selection round was published: its challenge's rankings change."""
    return rankings_schedule([challenge_id])


@retried
def recompute_challenge_rankings(challenge_id: int) -> int:
    from django.core.cache import cache

    cache.delete(RANKINGS_PENDING.format(challenge_id))
    return fitness.recompute_challenge(challenge_id)


@shared_task
def recompute_all_rankings() -> int:
    """Periodic full recompute (beat): equals the incremental state, repairs anything missed."""
    return fitness.recompute_all()


@retried
def sync_selection_reputation(challenge_id: int) -> int:
    return len(selection_credit.sync_selection([challenge_id]))


@shared_task
def compute_trust() -> int | None:
    """Hourly trust step (reputation.trust): a new snapshot; the nightly rebuild then appends
    the corrections for members whose low-trust verdict changed. Returns the snapshot's version."""
    snapshot = trust.trust_compute()
    return snapshot.version if snapshot else None


# --- Fanned out over workers (reputation.partitions, issue 17) -------------------------------


@shared_task
def recompute_reputation_partitioned(partitions: int | None = None) -> int:
    """The nightly rebuild as partitions that any number of workers share; returns the run's
    id. Its result (the corrections appended) is on the run once its last partition ends."""
    from . import partitions as fanout

    return fanout.start(fanout.REPUTATION, partitions or fanout.default_partitions()).pk


@shared_task
def recompute_all_rankings_partitioned(partitions: int | None = None) -> int:
    """The full rankings recompute as partitions of challenges; returns the run's id."""
    from . import partitions as fanout

    return fanout.start(fanout.RANKINGS, partitions or fanout.default_partitions()).pk


@retried
def fanout_partition(partition_id: int) -> bool:
    """One partition of a fanned-out run (promised through the outbox: run again if lost)."""
    from . import partitions as fanout

    return fanout.run_partition(partition_id)


@shared_task
def announce_trust_levels() -> int:
    """After a fanned-out rebuild: any trust level reached without being told (once per level)."""
    level_notices.trust_levels_announce(None)
    return 0


@retried
def sync_moderation_reputation(case_id: int) -> int:
    """A decided case's penalty lines (reputation.moderation.facts)."""
    from .moderation import facts

    touched = facts.sync_case(case_id)
    level_notices.trust_levels_announce(touched)
    return len(touched)
