"""python manage.py backup_database FILE: a consistent backup of the database (peerhub.backups)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from peerhub import backups
from peerhub.exceptions import DomainError


class Command(BaseCommand):
    help = "Back up the database to FILE (pg_dump's custom format on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            written = backups.backup(file)
        except (DomainError, OSError) as error:
            raise CommandError(str(error)) from error
        except Exception as error:  # pg_dump's own failure, with its message
            raise CommandError(getattr(error, "stderr", "") or str(error)) from error
        self.stdout.write(f"Backup written to {written} ({written.stat().st_size:,} bytes).")
