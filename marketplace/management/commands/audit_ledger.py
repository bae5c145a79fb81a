"""Check every ledger invariant over the whole database; exit non-zero on any drift."""

from django.core.management.base import BaseCommand, CommandError

from marketplace import ledger
from marketplace.models import LedgerEntry, LedgerTransaction


class Command(BaseCommand):
    help = (
        "Audit the marketplace ledger: every transaction sums to zero in one currency, no "
        "account but the provider's clearing is negative, every order's escrow matches its state, "
        "every cent of a prize purse is held, paid, refunded or rolled over exactly once."
    )

    def handle(self, *args, **options):
        problems = ledger.audit()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger has {len(problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger audit passed: {LedgerTransaction.objects.count()} transactions, "
                f"{LedgerEntry.objects.count()} entries."
            )
        )
