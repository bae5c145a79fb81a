"""Benchmark the full reputation rebuild against the bare SQL aggregate over the same votes:
`python manage.py bench_reputation --users 100000 --votes 1000000`.

It builds a synthetic dataset with bulk inserts (verified members, one open challenge, solutions
with forks up to four generations deep, votes spread over 60 days with a few very popular
solutions so the daily cap matters), then times, in the same run:

(a) the bare aggregate `SELECT author, SUM(...) ... GROUP BY author` over those votes,
(b) the full rebuild (`ledger.sync_everything()`) on an empty ledger,
(c) one vote to an updated score: `services.vote_cast` then the sync its commit would queue
    (`ledger.sync_vote(solution, voter)`), run synchronously, median of 20,

and prints them side by side with the ratio (b)/(a). Everything runs in one transaction that is
rolled back at the end, unless `--keep`, so the database is left as it was found. Run it on an
otherwise empty database: the rebuild covers every solution in it."""

import io
import random
import statistics
import time
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from challenges.models import Challenge, Revision, Solution
from peerhub.models import User
from reputation import ledger, rules, services, trust
from reputation.models import ReputationEvent, ReputationScore, Vote

PREFIX = "bench-"
SPREAD_DAYS = 60
UP_SHARE = 0.85
FORK_SHARE = 0.25
SERIAL_SHARE = 0.002
MAX_GENERATION = 4
SAMPLES = 20
SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
VOTE_COLUMNS = [
    "solution_id",
    "voter_id",
    "value",
    "created_at",
    "updated_at",
    "serial_reversed_at",
]

BARE_AGGREGATE = """
    SELECT s.author_id, SUM(CASE v.value WHEN 1 THEN 10 ELSE -2 END)
    FROM reputation_vote v JOIN challenges_solution s ON s.id = v.solution_id
    WHERE s.challenge_id = %s
    GROUP BY s.author_id
"""


class StatementTimer:
    """An execute wrapper that adds up the time of each statement at the driver (savepoints
    aside): what the database spends on a piece of work, without the Python around it."""

    def __init__(self) -> None:
        self.seconds, self.statements = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.record(sql, time.perf_counter() - started)

    def record(self, sql: str, seconds: float) -> None:
        if not sql.startswith(SAVEPOINTS):
            self.seconds += seconds
            self.statements += 1


class PhaseTimer(StatementTimer):
    """The same, adding up the time of the full rebuild's big statements by what they do,
    told by how they start."""

    PHASES = (
        ("checksum per solution", "SELECT solution_id FROM ("),
        ("vote corrections", "WITH sv AS"),
        ("fold of every score", "WITH t AS"),
        # The board rows (reputation.boards): checked per member against the ledger, then
        # those of the members the check names derived into a temporary table and compared.
        ("board rows checked", "SELECT member_id FROM ("),
        ("board rows derived", "CREATE TEMPORARY TABLE"),
        ("board rows compared", "DELETE FROM reputation_reputationday WHERE id IN"),
        ("board rows compared", "INSERT INTO reputation_reputationday"),
    )

    def __init__(self) -> None:
        self.seconds = {label: 0.0 for label, _ in self.PHASES}
        self.seconds["the others"] = 0.0

    def record(self, sql: str, seconds: float) -> None:
        text = sql.lstrip()
        label = next((lb for lb, start in self.PHASES if text.startswith(start)), None)
        self.seconds[label or "the others"] += seconds

    def report(self) -> list[tuple[str, float]]:
        return list(self.seconds.items())


def _copy_rows(table: str, columns: list[str], rows) -> None:
    """COPY on PostgreSQL, executemany elsewhere: the fastest bulk insert each offers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write(
                    "\t".join("\\N" if value is None else str(value) for value in row) + "\n"
                )
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                list(rows),
            )


class Command(BaseCommand):
    help = "Time a full reputation rebuild against the bare SQL aggregate on synthetic data."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10000)
        parser.add_argument("--votes", type=int, default=100000)
        parser.add_argument("--solutions", type=int, default=None, help="default: users / 5")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="solutions per batch at most"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--keep", action="store_true", help="commit the synthetic data instead of rolling back"
        )

    def handle(self, *args, users, votes, solutions, batch_size, seed, keep, **options):
        solutions = solutions or max(2, users // 5)
        if users < 3 or votes < 1:
            raise CommandError("--users must be at least 3 and --votes at least 1.")
        if votes > solutions * (users - 1) // 2:
            raise CommandError("Too many votes for so few users and solutions.")
        self.rng = random.Random(seed)
        self.figures: dict[str, str] = {}
        with transaction.atomic():
            self._run(users, votes, solutions, batch_size)
            if not keep:
                transaction.set_rollback(True)
        if not keep:
            self.stdout.write("Synthetic data rolled back.")

    def _step(self, label: str, started: float) -> float:
        elapsed = time.perf_counter() - started
        self.stdout.write(f"  {label}: {elapsed:.2f}s")
        return elapsed

    def _run(self, n_users: int, n_votes: int, n_solutions: int, batch_size: int | None) -> None:
        if ReputationEvent.objects.exists() or Solution.objects.exists():
            self.stdout.write(
                self.style.WARNING("The database holds data: the rebuild will cover it too.")
            )
        self.stdout.write(
            f"Building {n_users} members, {n_solutions} solutions, {n_votes} votes "
            f"on {connection.vendor}..."
        )
        started = time.perf_counter()
        user_ids = self._users(n_users)
        challenge = Challenge.objects.create(
            title="Benchmark challenge",
            slug=f"{PREFIX}{timezone.now():%Y%m%d%H%M%S%f}",
            summary="Synthetic data for bench_reputation.",
            status=Challenge.Status.OPEN,
            created_by_id=user_ids[0],
            solution_count=n_solutions,
        )
        solution_ids, authors = self._solutions(challenge, user_ids, n_solutions)
        self._votes(user_ids, solution_ids, authors, n_votes)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("peerhub_user", "challenges_solution", "reputation_vote"):
                    cursor.execute(f"ANALYZE {table}")
        self._step("dataset built", started)

        # (a) The bare aggregate over the same votes (best of three: warm caches).
        bare = []
        for _ in range(3):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(BARE_AGGREGATE, [challenge.pk])
                rows = cursor.fetchall()
            bare.append(time.perf_counter() - started)
        self.stdout.write(f"  bare aggregate: {min(bare):.3f}s ({len(rows)} authors)")

        # (b) The full rebuild on an empty ledger.
        ReputationEvent.objects.all().delete()
        started = time.perf_counter()
        ledger.sync_everything(batch_size=batch_size)
        full = self._step("full rebuild", started)
        lines = ReputationEvent.objects.count()
        phases = PhaseTimer()
        started = time.perf_counter()
        with connection.execute_wrapper(phases):
            again = ledger.sync_everything(batch_size=batch_size)
        second = self._step(f"second full rebuild ({again} corrections)", started)
        # The floor under any full rebuild: reading the votes as it must (with the ancestors'
        # authors for lineage credit, the voter's verified address and trust), deriving nothing.
        floor = []
        votes_sql = ledger._votes_sql(rules.rules(), trust.latest_snapshot_id(), "1 = 1")
        for _ in range(3):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({votes_sql}) sv")  # noqa: S608 (no input)
                cursor.fetchall()
            floor.append(time.perf_counter() - started)

        # (c) One vote to an updated score.
        cast, synced, in_db, statements = self._incremental(challenge, solution_ids, authors)

        def ms(seconds: float) -> str:
            return f"{seconds * 1000:.1f} ms"

        table = [
            ("database", connection.vendor),
            ("members / solutions / votes", f"{n_users} / {n_solutions} / {n_votes}"),
            ("ledger lines after rebuild", str(lines)),
            ("(a) bare SQL aggregate", f"{min(bare):.3f} s"),
            ("(b) full rebuild, empty ledger", f"{full:.3f} s"),
            ("ratio (b)/(a)", f"{full / min(bare):.1f}x"),
            ("full rebuild, nothing to correct", f"{second:.3f} s"),
            ("ratio to (a)", f"{second / min(bare):.1f}x"),
            *((f"  statements: {label}", f"{seconds:.3f} s") for label, seconds in phases.report()),
            ("  outside the statements", f"{second - sum(phases.seconds.values()):.3f} s"),
            ("votes read as a rebuild must, no lines", f"{min(floor):.3f} s"),
            ("(c) vote_cast, median", ms(statistics.median(cast))),
            ("(c) sync to updated score, median", ms(statistics.median(synced))),
            ("(c) sync to updated score, max", ms(max(synced))),
            (
                "(c) sync, time in the database, median",
                f"{ms(statistics.median(in_db))} in {statistics.median(statements):g} statements",
            ),
            (
                "(c) vote to updated score, median",
                ms(statistics.median([a + b for a, b in zip(cast, synced, strict=True)])),
            ),
        ]
        width = max(len(label) for label, _ in table)
        self.stdout.write("")
        for label, value in table:
            self.stdout.write(f"{label:<{width}}  {value}")

    def _users(self, n_users: int) -> list[int]:
        stamp = f"{timezone.now():%H%M%S%f}"
        members = [
            User(
                username=f"{PREFIX}{stamp}-{i}",
                email=f"{PREFIX}{stamp}-{i}@example.org",
                password="!",  # noqa: S106  (an unusable password, as set_unusable_password)
            )
            for i in range(n_users + SAMPLES)
        ]
        created = User.objects.bulk_create(members, batch_size=10000)
        ids = [member.pk for member in created]
        if None in ids:
            ids = list(
                User.objects.filter(username__startswith=f"{PREFIX}{stamp}-")
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user_id=pk, email=m.email, verified=True, primary=True)
                for pk, m in zip(ids, members, strict=True)
            ],
            batch_size=10000,
        )
        return ids

    def _solutions(self, challenge, user_ids, n_solutions) -> tuple[list[int], dict[int, int]]:
        """A forest planned in Python first (parents, generations, counts), then inserted one
        generation at a time with lineage columns set as challenges.services does."""
        rng = self.rng
        voters = user_ids[:-SAMPLES]
        parent: list[int | None] = []
        generation: list[int] = []
        for i in range(n_solutions):
            if i > 0 and rng.random() < FORK_SHARE:
                p = rng.randrange(i)
                if generation[p] < MAX_GENERATION:
                    parent.append(p)
                    generation.append(generation[p] + 1)
                    continue
            parent.append(None)
            generation.append(0)
        author = [rng.choice(voters) for _ in range(n_solutions)]
        forks = [0] * n_solutions
        descendants = [0] * n_solutions
        for i in range(n_solutions):
            p = parent[i]
            if p is not None:
                forks[p] += 1
            while p is not None:
                descendants[p] += 1
                p = parent[p]

        now = timezone.now()
        created_at = now - timedelta(days=SPREAD_DAYS + 1)
        pk: list[int] = [0] * n_solutions
        path: list[str] = [""] * n_solutions
        revision: list[int] = [0] * n_solutions
        for gen in range(MAX_GENERATION + 1):
            members = [i for i in range(n_solutions) if generation[i] == gen]
            if not members:
                continue
            rows = [
                Solution(
                    challenge=challenge,
                    author_id=author[i],
                    title=f"Solution {i}",
                    status=Solution.Status.PUBLISHED,
                    parent_id=pk[parent[i]] if parent[i] is not None else None,
                    forked_from_revision_id=revision[parent[i]] if parent[i] is not None else None,
                    generation=gen,
                    revision_count=1,
                    fork_count=forks[i],
                    descendant_count=descendants[i],
                    created_at=created_at,
                    updated_at=created_at,
                    published_at=created_at,
                )
                for i in members
            ]
            created = Solution.objects.bulk_create(rows, batch_size=10000)
            for i, solution in zip(members, created, strict=True):
                pk[i] = solution.pk
                path[i] = f"{path[parent[i]] if parent[i] is not None else '/'}{solution.pk}/"
            revisions = Revision.objects.bulk_create(
                [
                    Revision(
                        solution_id=pk[i],
                        number=1,
                        title=f"Solution {i}",
                        body="Synthetic." if parent[i] is None else "Synthetic fork.",
                        message="First version" if parent[i] is None else "Forked",
                        author_id=author[i],
                        created_at=created_at,
                    )
                    for i in members
                ],
                batch_size=10000,
            )
            for i, rev in zip(members, revisions, strict=True):
                revision[i] = rev.pk
            # root, path and current revision in one statement per generation.
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE challenges_solution SET current_revision_id = ("
                    " SELECT r.id FROM challenges_revision r"
                    " WHERE r.solution_id = challenges_solution.id)"
                    " WHERE challenge_id = %s AND generation = %s",
                    [challenge.pk, gen],
                )
            updates = [
                Solution(pk=pk[i], path=path[i], root_id=int(path[i].split("/")[1]))
                for i in members
            ]
            Solution.objects.bulk_update(updates, ["path", "root"], batch_size=1000)
        return pk, dict(zip(pk, author, strict=True))

    def _votes(self, user_ids, solution_ids, authors, n_votes) -> None:
        """Distinct (solution, voter) pairs, no self-votes, a few very popular solutions."""
        rng = self.rng
        voters = user_ids[:-SAMPLES]
        n_solutions, n_voters = len(solution_ids), len(voters)
        now = timezone.now()
        span = SPREAD_DAYS * 86400
        adapt = connection.ops.adapt_datetimefield_value
        seen: set[tuple[int, int]] = set()
        rows = []
        while len(rows) < n_votes:
            solution_id = solution_ids[int(n_solutions * rng.random() ** 3)]
            voter_id = voters[rng.randrange(n_voters)]
            if voter_id == authors[solution_id] or (solution_id, voter_id) in seen:
                continue
            seen.add((solution_id, voter_id))
            at = adapt(now - timedelta(seconds=rng.randrange(3600, span)))
            serial = at if rng.random() < SERIAL_SHARE else None
            value = 1 if rng.random() < UP_SHARE else -1
            rows.append((solution_id, voter_id, value, at, at, serial))
        for start in range(0, len(rows), 100000):
            _copy_rows(
                Vote._meta.db_table,
                VOTE_COLUMNS,
                rows[start : start + 100000],
            )

    def _incremental(self, challenge, solution_ids, authors) -> tuple[list, list, list, list]:
        """A fresh verified member votes a published solution up; then the sync its commit
        queues runs here, synchronously. Solutions drawn like the votes (popular ones often)."""
        sample_voters = User.objects.filter(
            pk__in=list(
                User.objects.filter(username__startswith=PREFIX)
                .order_by("-pk")
                .values_list("pk", flat=True)[:SAMPLES]
            )
        )
        ReputationScore.objects.filter(user__in=sample_voters).delete()
        cast, synced, in_db, statements = [], [], [], []
        rng = self.rng
        for voter in sample_voters:
            while True:
                solution = Solution.objects.get(
                    pk=solution_ids[int(len(solution_ids) * rng.random() ** 3)]
                )
                if not Solution.objects.filter(
                    pk__in=[*solution.ancestor_ids, solution.pk], author=voter
                ).exists():
                    break
            started = time.perf_counter()
            with transaction.atomic():
                services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
            cast.append(time.perf_counter() - started)
            started = time.perf_counter()
            ledger.sync_vote(solution.pk, voter.pk)
            synced.append(time.perf_counter() - started)
            # The same sync's statements, timed one by one at the driver: what the database
            # spends, without the Python around it. The vote is taken back and cast again
            # first, so that the sync has the same work to do.
            with transaction.atomic():
                services.vote_remove(voter=voter, solution=solution)
            ledger.sync_vote(solution.pk, voter.pk)
            with transaction.atomic():
                services.vote_cast(voter=voter, solution=solution, value=Vote.UP)
            timer = StatementTimer()
            with connection.execute_wrapper(timer):
                ledger.sync_vote(solution.pk, voter.pk)
            in_db.append(timer.seconds)
            statements.append(timer.statements)
        return cast, synced, in_db, statements
