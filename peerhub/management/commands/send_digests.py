"""Send today's digest e-mails now, as the daily beat task does (handy with `make run`, where
no beat process runs: the e-mails appear in the console or under var/mail)."""

from datetime import date

from django.core.management.base import BaseCommand

from peerhub.notifications.services import digests_send


class Command(BaseCommand):
    help = "Send each member's notification digest for a day (today by default). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, day=None, **options):
        sent = digests_send(day=day)
        self.stdout.write(
            self.style.SUCCESS(f"{sent} digest e-mail{'s' if sent != 1 else ''} sent.")
        )
