"""Time the nightly reputation rebuild on the data there is (a scratch database, e.g. one filled by
`seed_scale`): `python manage.py bench_nightly [--runs 3] [--touch 1000 5000]`.

It prints, each the median of `--runs` runs (with the fastest and slowest):
- the member-day floor: one pass over the ledger grouped per member and UTC day, which the daily
  cap needs, and three times it, the nightly rebuild's goal (issue 17);
- the whole check (what the nightly task runs once a week, and `recompute_reputation` by hand);
- the nightly task (`recompute_reputation`, trust levels announced included) with nothing
  changed since its last run;
- the nightly task after N solutions changed (for each N of `--touch`): N solutions picked at
  random (`--seed`) are marked touched, as the triggers mark a solution that got a vote or a
  review (reputation.touches), and their lines are derived again and compared;
- the nightly task after a day of N new votes (for each N of `--votes`) on random solutions by
  random members allowed to vote, each synced as the vote's task syncs it (`_day_of_votes`):
  their solutions' lines are checked, and the board rows and scores of the members they
  credited.
Each line says what the run checked and how many lines it appended (0 when the ledger was right).
It writes what a nightly run writes (check records, corrections if any), so it refuses a database
not named as scratch."""

import random
import statistics
import time
from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate

from challenges.models import Solution
from peerhub.scratch import is_scratch
from reputation import ledger, rules, tasks
from reputation.models import LedgerCheck, LedgerTouch, ReputationEvent, ReputationScore, Vote


def member_days() -> int:
    """The member-day floor's statement: one pass over the ledger grouped per member and UTC
    day (the groups counted, so that nothing but the pass is timed)."""
    days = ReputationEvent.objects.annotate(day=TruncDate("fact_at", tzinfo=UTC))
    return days.values("beneficiary_id", "day").annotate(net=Sum("amount")).count()


class Command(BaseCommand):
    help = "Time the nightly reputation rebuild: the floor, the whole check, what changed."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3, help="runs of each figure (median)")
        parser.add_argument(
            "--touch",
            type=int,
            nargs="*",
            default=[1000, 5000],
            help="solutions marked changed before a nightly run, one figure each",
        )
        parser.add_argument(
            "--votes",
            type=int,
            nargs="*",
            default=[],
            help="votes cast through the services before a nightly run, one figure each",
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, runs: int, touch: list[int], votes: list[int], seed: int, **options):
        name = connection.settings_dict["NAME"]
        if not is_scratch(name):
            raise CommandError(
                f"Refusing to time the nightly rebuild on {name!r}: it writes what a nightly run "
                "writes; use a scratch database (its name contains 'scratch' or 'sim')."
            )
        if runs < 1 or any(n < 1 for n in [*touch, *votes]):
            raise CommandError("At least one run, one solution to touch and one vote to cast.")
        picker = random.Random(seed)
        solution_ids = list(Solution.objects.values_list("pk", flat=True))
        rows: list[tuple[str, str]] = []

        def timed(label: str, run, before=None) -> None:
            seconds, checks = [], []
            for _ in range(runs):
                if before is not None:
                    before()
                started = time.perf_counter()
                appended = run()
                seconds.append(time.perf_counter() - started)
                check = LedgerCheck.objects.order_by("-pk").first()
                checks.append((appended, check))
            appended, check = checks[-1]
            what = f"everything ({check.reason})" if check.whole else f"{check.solutions} solutions"
            rows.append((label, f"{_figures(seconds)}; checked {what}; appended {appended}"))
            self.stdout.write(f"  {label}: {rows[-1][1]}")

        floor_seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            groups = member_days()
            floor_seconds.append(time.perf_counter() - started)
        goal = 3 * statistics.median(floor_seconds)
        rows.append(
            (
                "member-day floor (one pass over the ledger)",
                f"{_figures(floor_seconds)}; {groups} member-days",
            )
        )
        rows.append(("goal: 3x the floor", f"{goal:.2f} s"))
        self.stdout.write(f"  {rows[0][0]}: {rows[0][1]}")
        timed("whole check (weekly; by hand)", ledger.sync_everything)

        timed("nightly, nothing changed", tasks.recompute_reputation)
        for n in touch:

            def mark(n=n) -> None:
                chosen = picker.sample(solution_ids, min(n, len(solution_ids)))
                LedgerTouch.objects.bulk_create(LedgerTouch(solution_id=pk) for pk in chosen)

            timed(f"nightly, {n} solutions changed", tasks.recompute_reputation, before=mark)
        if votes:
            voters = list(
                ReputationScore.objects.filter(
                    trust_level__gte=rules.privileges()["reputation.vote_up"]
                ).values_list("user_id", flat=True)
            )
            if not voters:
                raise CommandError("No member may vote: nobody has the trust level it takes.")
        for n in votes:

            def cast(n=n) -> None:
                self.stdout.write(
                    f"  casting {n} votes: {_day_of_votes(n, voters, solution_ids, picker)}"
                )

            timed(f"nightly, after a day of {n} votes", tasks.recompute_reputation, before=cast)
        width = max(len(label) for label, _ in rows)
        self.stdout.write("")
        self.stdout.write(f"database {name}: {ReputationEvent.objects.count()} ledger lines")
        for label, value in rows:
            self.stdout.write(f"{label:<{width}}  {value}")


def _figures(seconds: list[float]) -> str:
    if len(seconds) == 1:
        return f"{seconds[0]:.2f} s"
    return f"{statistics.median(seconds):.2f} s ({min(seconds):.2f}-{max(seconds):.2f})"


def _day_of_votes(n: int, voters: list[int], solution_ids: list[int], picker) -> str:
    """Write `n` new upvotes, each by a random member allowed to vote on a random solution of
    someone else, each synced as the vote's task syncs it (`ledger.sync_vote`: the ledger's
    lines, the board rows and the score); the rankings' recompute that the site's save of a vote
    also schedules is left out (it is not the nightly rebuild's). Says how many were written and
    in how long."""
    started, cast, tries = time.perf_counter(), 0, 0
    authors = dict(Solution.objects.filter(pk__in=solution_ids).values_list("pk", "author_id"))
    while cast < n and tries < 5 * n:
        tries += 1
        voter_id, solution_id = picker.choice(voters), picker.choice(solution_ids)
        if authors.get(solution_id) == voter_id:
            continue
        with transaction.atomic():
            if Vote.objects.filter(solution_id=solution_id, voter_id=voter_id).exists():
                continue
            # The row alone (the site's save also schedules the rankings' recompute).
            Vote.objects.bulk_create([Vote(solution_id=solution_id, voter_id=voter_id, value=1)])
            ledger.sync_vote(solution_id, voter_id)
        cast += 1
    return f"{cast} written and synced in {time.perf_counter() - started:.1f} s"
