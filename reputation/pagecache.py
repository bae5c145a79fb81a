"""Which reputation writes make which cached anonymous pages stale (peerhub.pagecache). Votes
and reviews send post_save (reputation.services); the ledger, the scores and the ranks are
written in bulk by background tasks, which bump when they finish."""

from challenges.pagecache import challenge_and_solutions, solution_scopes
from peerhub.pagecache import after_task, on_save_and_delete

from .models import ReputationScore, Review, Vote

# Profiles and boards show reputation; a member's ledger lines are written in bulk by the syncs.
LEDGER = ["reputation", "boards"]
# "How reputation works" quotes the latest simulation's figures, written to a file by
# reputation.simulation_report, which bumps this scope.
SIMULATION = "simulation"


def _held_solution(row):
    """The solution a vote or review row already holds, if loaded (no query)."""
    field = type(row)._meta.get_field("solution")
    return row.solution if field.is_cached(row) else None


def connect() -> None:
    on_save_and_delete(Vote, lambda v: solution_scopes(v.solution_id, _held_solution(v)))
    on_save_and_delete(Review, lambda r: solution_scopes(r.solution_id, _held_solution(r)))
    # Scores are written in bulk by the syncs (below); staff pinning a level saves one row.
    on_save_and_delete(ReputationScore, lambda score: LEDGER)
    for name in (
        "sync_solution_reputation",
        "sync_descendants_reputation",
        "sync_vote_reputation",
        "sync_manifesto_reputation",
        "sync_moderation_reputation",
    ):
        after_task(f"reputation.tasks.{name}", lambda args, kwargs, retval: LEDGER)
    after_task(
        "reputation.tasks.recompute_challenge_rankings",
        lambda args, kwargs, retval: [
            *challenge_and_solutions(args[0] if args else kwargs["challenge_id"]),
            "boards",
        ],
    )
    # The 30-day standings move as days leave the window (reputation.boards.roll_window).
    after_task("reputation.tasks.roll_board_window", lambda args, kwargs, retval: ["boards"])
    # The full rebuilds, the serial-vote reversal and trust change anything anywhere; they run
    # hourly, nightly or weekly.
    for name in (
        "recompute_reputation",
        "recompute_reputation_whole",
        "reverse_serial_votes",
        "recompute_all_rankings",
        "sync_selection_reputation",
        "compute_trust",
    ):
        after_task(f"reputation.tasks.{name}", lambda args, kwargs, retval: ["site"])
    # One partition of a fanned-out rebuild or rankings recompute (reputation.partitions): the
    # same writes as the full runs above, a range at a time.
    after_task(
        "reputation.tasks.fanout_partition",
        lambda args, kwargs, did_step: ["site"] if did_step else [],
    )
