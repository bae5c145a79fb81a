"""Recompute every challenge's fitness and ranks from the facts. Idempotent: running it again,
or after the debounced incremental recomputes, changes nothing (it writes only the scores whose
figures changed)."""

import time

from django.core.management.base import BaseCommand, CommandError

from reputation import fitness


class Command(BaseCommand):
    help = "Recompute the fitness and rank of every solution, a batch of challenges at a time."

    def add_arguments(self, parser):
        parser.add_argument("--challenge", help="Only this challenge (its slug).")
        parser.add_argument(
            "--partitions",
            type=int,
            default=None,
            help="fan out over the workers in about this many partitions (reputation.partitions)",
        )

    def handle(self, *args, challenge=None, partitions=None, **options):
        from challenges.models import Challenge
        from reputation import partitions as fanout

        if partitions is not None and partitions < 1:
            raise CommandError("--partitions must be at least 1.")
        started = time.perf_counter()
        if challenge:
            target = Challenge.objects.filter(slug=challenge).first()
            if target is None:
                self.stderr.write(f"No challenge {challenge!r}.")
                return
            written = fitness.recompute_challenge(target.pk)
        elif partitions is not None:
            written = fanout.run_and_wait(fanout.RANKINGS, partitions).result or 0
        else:
            written = fitness.recompute_all()
        if options["verbosity"]:
            self.stdout.write(
                f"Recomputed {written} solution scores in {time.perf_counter() - started:.2f}s."
            )
