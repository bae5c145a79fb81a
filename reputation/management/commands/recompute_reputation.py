"""The full reputation rebuild by hand: `python manage.py recompute_reputation [--check]`.

It appends whatever corrections the facts call for (the ledger is append-only, so a correction is
the repair, visible in members' histories) and says how many. With `--check` it exits non-zero
when there were any, so operators can verify that the incremental syncs equal a full rebuild.
With `--partitions N` the rebuild is fanned out over the Celery workers (reputation.partitions)
and the command waits for it."""

import time

from django.core.management.base import BaseCommand, CommandError

from reputation import ledger, partitions


class Command(BaseCommand):
    help = "Rebuild the reputation ledger and scores from the facts; report the corrections."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="solutions per transaction at most (5000 on PostgreSQL, 500 elsewhere)",
        )
        parser.add_argument(
            "--partitions",
            type=int,
            default=None,
            help="fan out over the workers in about this many partitions (reputation.partitions)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit with status 1 when any correction was needed",
        )

    def handle(self, *args, batch_size: int, check: bool, verbosity: int, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        parts = options.get("partitions")
        if parts is not None and parts < 1:
            raise CommandError("--partitions must be at least 1.")

        def progress(done: int, total: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {done}/{total} solutions")

        started = time.monotonic()
        if parts is not None:
            corrections = partitions.run_and_wait(partitions.REPUTATION, parts).result or 0
        else:
            corrections = ledger.sync_everything(batch_size=batch_size, progress=progress)
        elapsed = time.monotonic() - started
        message = f"Appended {corrections} correction line(s) in {elapsed:.2f}s."
        if check and corrections:
            raise CommandError(f"{message} The incremental ledger differed from a full rebuild.")
        self.stdout.write(self.style.SUCCESS(message) if not corrections else message)
