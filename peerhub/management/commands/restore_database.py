"""python manage.py restore_database FILE --yes: replace the database with a backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peerhub import backups
from peerhub.exceptions import DomainError


class Command(BaseCommand):
    help = "Replace everything the database holds with the backup in FILE. Stop web and workers."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="Yes, replace the database.")

    def handle(self, *args, file: Path, yes: bool, **options):
        if not yes:
            raise CommandError("This replaces the whole database: run again with --yes.")
        try:
            backups.restore(file)
        except (DomainError, OSError) as error:
            raise CommandError(str(error)) from error
        except Exception as error:
            raise CommandError(getattr(error, "stderr", "") or str(error)) from error
        self.stdout.write(f"Restored from {file}. Check it: manage.py audit_ledger.")
