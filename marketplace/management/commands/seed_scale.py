"""`python manage.py seed_scale --members N [--seed S] [--i-know]`: the scale dataset
(marketplace.scale) on a scratch database, then the real recompute commands over it.

It refuses a database whose name does not say scratch (peerhub.scratch) unless `--i-know`.
Every member's password is `peerhub-scale`; `admin` is a superuser, `bench` a busy member."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from marketplace import scale
from peerhub import figures
from peerhub.scratch import is_scratch

RECOMPUTE = ("recompute_reputation", "recompute_rankings", "compute_trust")


class Command(BaseCommand):
    help = "Fill a scratch database with a community of N members (100,000: 1M votes)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--i-know", action="store_true", help="Run on a database not named as scratch."
        )
        parser.add_argument(
            "--no-recompute", action="store_true", help="Write the facts only (tests)."
        )

    def handle(self, *args, members, seed, i_know, no_recompute, **options):
        name = connection.settings_dict["NAME"]
        if not (is_scratch(name) or i_know):
            raise CommandError(
                f"Refusing to seed {name!r}: use a database whose name contains 'scratch' or "
                "'sim' (e.g. peerhub_scratch_10k), or pass --i-know."
            )
        if members < 10:
            raise CommandError("At least 10 members.")
        from peerhub.models import User

        if User.objects.filter(username="bench").exists():
            raise CommandError(f"{name!r} is already seeded: start from an empty database.")
        began = time.perf_counter()
        self.stdout.write(f"Seeding {members} members (seed {seed}) into {name}")
        scale.Seeder(members, seed=seed, log=self.stdout.write).run()
        self._derive()
        if not no_recompute:
            for command in RECOMPUTE:
                stage = time.perf_counter()
                call_command(command, verbosity=0)
                self.stdout.write(
                    f"{command:<28}{'':>10}      {time.perf_counter() - stage:>8.1f} s"
                )
        self._analyze()
        self.stdout.write(
            f"Done in {time.perf_counter() - began:.1f} s; largest lineages "
            f"{scale.lineage_sizes()}; log in as bench or admin, password {scale.PASSWORD!r}."
        )

    def _derive(self) -> None:
        """What the services derive at write time and the seed's bulk rows lack: each reply's
        thread and the rendered Markdown (challenges.rendering), the offers' tallies."""
        from challenges.models import Comment, Revision
        from challenges.rendering import link_comment_threads, rerender_markdown

        stage = time.perf_counter()
        link_comment_threads(Comment)
        for model in (Comment, Revision):
            rerender_markdown(model, missing_only=True)
        call_command("offer_tallies_rebuild", verbosity=0)
        figures.figures_changed()  # bulk rows send no signal: the home figures count again
        self.stdout.write(
            f"{'derived (threads, HTML, tallies)':<38}      {time.perf_counter() - stage:>8.1f} s"
        )

    def _analyze(self) -> None:
        """Fresh planner statistics and visibility maps for every table, as after any bulk
        load: a server whose autovacuum is off, or has not come round yet, would otherwise plan
        the benchmark's statements from empty tables and read the heap behind every index."""
        if connection.vendor != "postgresql":
            return
        stage = time.perf_counter()
        # VACUUM cannot run inside a transaction (a test's): the statistics alone then.
        statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(statement)
        self.stdout.write(f"{statement:<38}      {time.perf_counter() - stage:>8.1f} s")
