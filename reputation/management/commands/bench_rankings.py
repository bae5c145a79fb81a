"""Benchmark the fitness recompute against the bare SQL that reads the same rows:
`python manage.py bench_rankings` (full size) or `--scale 0.05` (a quick run).

(1) One challenge with 10,000 solutions (forks up to four generations) and 100,000 votes:
    `fitness.recompute_challenge` beside the bare SELECT of that challenge's solutions and votes.
(2) A 200,000-solution dataset spread over challenges of 1,000 solutions, 2 votes each on
    average: `fitness.recompute_all` beside the bare SELECT of every solution and vote.

Sizes scale with `--scale`. The synthetic data is built with the bulk inserts of
bench_reputation and committed, so that the recomputes run as they do in production (each
challenge its own transaction: inside one big transaction, PostgreSQL's visibility checks over
hundreds of savepoints would dominate the figures); it is deleted at the end, unless `--keep`."""

# The cleanup SQL is built from integer ids only.
# ruff: noqa: S608

import random
import time

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from challenges.models import Challenge
from reputation import fitness
from reputation.models import SolutionScore

from .bench_reputation import PREFIX
from .bench_reputation import Command as ReputationBench

BARE_ONE = """
    SELECT s.id, s.parent_id, s.author_id, s.path, v.voter_id, v.value
    FROM challenges_solution s LEFT JOIN reputation_vote v ON v.solution_id = s.id
    WHERE s.challenge_id = %s
"""
BARE_ALL = """
    SELECT s.id, s.parent_id, s.author_id, s.path, v.voter_id, v.value
    FROM challenges_solution s LEFT JOIN reputation_vote v ON v.solution_id = s.id
"""


class Command(ReputationBench):
    help = "Time the fitness recompute against the bare SQL reading the same rows."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, scale, seed, keep, **options):
        if not 0 < scale <= 10:
            raise CommandError("--scale must be in (0, 10].")
        self.rng = random.Random(seed)
        self.challenge_ids: list[int] = []
        self.user_ids: list[int] = []
        try:
            self._bench(scale)
        finally:
            if not keep:
                self._cleanup()
                self.stdout.write("Synthetic data deleted.")

    def _cleanup(self) -> None:
        """Delete what the bench made, in raw SQL (revisions refuse ORM deletes by design)."""
        if not self.challenge_ids and not self.user_ids:
            return
        challenges = ", ".join(str(int(pk)) for pk in self.challenge_ids) or "NULL"
        users = ", ".join(str(int(pk)) for pk in self.user_ids) or "NULL"
        solutions = f"SELECT id FROM challenges_solution WHERE challenge_id IN ({challenges})"
        statements = [
            f"DELETE FROM reputation_solutionscore WHERE challenge_id IN ({challenges})",
            f"DELETE FROM reputation_vote WHERE solution_id IN ({solutions})",
            # Lineage columns cleared together: a fork's check constraints hold row by row.
            "UPDATE challenges_solution SET current_revision_id = NULL, "
            "forked_from_revision_id = NULL, parent_id = NULL, root_id = NULL, generation = 0 "
            f"WHERE challenge_id IN ({challenges})",
            f"DELETE FROM challenges_revision WHERE solution_id IN ({solutions})",
            f"DELETE FROM challenges_solution WHERE challenge_id IN ({challenges})",
            f"DELETE FROM challenges_challenge WHERE id IN ({challenges})",
            f"DELETE FROM account_emailaddress WHERE user_id IN ({users})",
            f"DELETE FROM peerhub_user WHERE id IN ({users})",
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _challenge(self, user_ids, n_solutions, n_votes, label):
        challenge = Challenge.objects.create(
            title=f"Benchmark {label}",
            slug=f"{PREFIX}{label}-{timezone.now():%H%M%S%f}",
            summary="Synthetic data for bench_rankings.",
            status=Challenge.Status.OPEN,
            created_by_id=user_ids[0],
            solution_count=n_solutions,
        )
        self.challenge_ids.append(challenge.pk)
        with transaction.atomic():
            solution_ids, authors = self._solutions(challenge, user_ids, n_solutions)
            self._votes(user_ids, solution_ids, authors, n_votes)
        return challenge

    def _analyze(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("challenges_solution", "reputation_vote", "reputation_review"):
                    cursor.execute(f"ANALYZE {table}")

    def _bare(self, sql, params) -> tuple[float, int]:
        best, count = float("inf"), 0
        for _ in range(3):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                count = len(cursor.fetchall())
            best = min(best, time.perf_counter() - started)
        return best, count

    def _timed(self, action) -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    def _bench(self, scale: float) -> None:
        one_solutions, one_votes = max(20, int(10_000 * scale)), max(100, int(100_000 * scale))
        all_solutions = max(100, int(200_000 * scale))
        per_challenge = max(20, int(1_000 * scale))
        n_users = max(60, int(2_000 * scale))
        self.stdout.write(
            f"On {connection.vendor}: (1) one challenge, {one_solutions} solutions, "
            f"{one_votes} votes; (2) {all_solutions} solutions in challenges of {per_challenge}."
        )
        started = time.perf_counter()
        with transaction.atomic():
            user_ids = self._users(n_users)
        self.user_ids = user_ids
        big = self._challenge(user_ids, one_solutions, one_votes, "one")
        self._analyze()
        self.stdout.write(f"  dataset (1) built: {time.perf_counter() - started:.1f}s")

        bare_one, rows_one = self._bare(BARE_ONE, [big.pk])
        first = self._timed(lambda: fitness.recompute_challenge(big.pk))
        again = self._timed(lambda: fitness.recompute_challenge(big.pk))
        measure = self._timed(lambda: fitness.measure_challenge(big.pk))

        started = time.perf_counter()
        remaining = all_solutions - one_solutions
        n = 0
        while remaining > 0:
            size = min(per_challenge, remaining)
            self._challenge(user_ids, size, min(2 * size, size * (n_users - 1) // 2), f"all{n}")
            remaining -= size
            n += 1
        self._analyze()
        self.stdout.write(
            f"  dataset (2) built: {time.perf_counter() - started:.1f}s ({n + 1} challenges)"
        )
        bare_all, rows_all = self._bare(BARE_ALL, [])
        full = self._timed(fitness.recompute_all)
        scores = SolutionScore.objects.count()

        table = [
            ("database", connection.vendor),
            ("(1) bare SQL, same rows", f"{bare_one:.3f} s ({rows_one} rows)"),
            ("(1) recompute one challenge", f"{first:.3f} s"),
            ("(1) of which the measuring query", f"{measure:.3f} s"),
            ("(1) recompute again (upsert)", f"{again:.3f} s"),
            ("(1) ratio recompute / bare", f"{first / bare_one:.1f}x"),
            ("(2) bare SQL, same rows", f"{bare_all:.3f} s ({rows_all} rows)"),
            ("(2) recompute every challenge", f"{full:.3f} s ({scores} scores)"),
            ("(2) ratio recompute / bare", f"{full / bare_all:.1f}x"),
        ]
        width = max(len(label) for label, _ in table)
        self.stdout.write("")
        for label, value in table:
            self.stdout.write(f"{label:<{width}}  {value}")
