"""The leaderboards the old way, for the oracle tests: every board folded from the ledger lines
on each read (per key net, the UTC day of its latest line, the daily cap folded in Python), as
`reputation.leaderboards.leaderboard` did before the read model (`reputation.boards`)."""

from decimal import Decimal

from challenges.models import Challenge
from reputation import leaderboards


def old_board(*, viewer, period, challenge=None, value=None) -> list[tuple[int, Decimal]]:
    """[(member id, score)] best first, ties by username: what the board showed before."""
    events = leaderboards._visible_lines(viewer).filter(beneficiary__is_active=True)
    if challenge is not None:
        events = events.filter(solution__challenge=challenge)
    if value is not None:
        events = events.filter(
            solution__challenge__in=Challenge.objects.filter(values=value).values("pk")
        )
    rows = leaderboards.per_key_lines(events, "beneficiary__username")
    if period == leaderboards.LAST_30_DAYS:
        rows = rows.filter(day__gte=leaderboards.window_start())
    totals = leaderboards.fold_capped(
        rows, by=lambda row: (row["beneficiary_id"], row["beneficiary__username"])
    )
    ranked = sorted(
        ((member, total) for member, total in totals.items() if total > 0),
        key=lambda item: (-item[1], item[0][1]),
    )
    return [(uid, total) for (uid, _name), total in ranked]


def new_board(**kwargs) -> list[tuple[int, Decimal]]:
    board = leaderboards.leaderboard(**kwargs)
    return [(standing.user.pk, standing.score) for standing in board[0 : len(board)]]
