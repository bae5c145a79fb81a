"""The translation catalogues (locale/<lang>/LC_MESSAGES/django.po and .mo, issue 22).

    manage.py catalogues            # gather new strings into every catalogue, compile them
    manage.py catalogues --check    # fail when a catalogue lags the code (CI runs it as a test)

--check gathers the strings into a copy of the catalogues and fails when any shipped language
has a message that is untranslated or fuzzy there, keeps one the code no longer has, or ships a
compiled .mo that is not its .po's: every change that adds a string ships its translations."""

import filecmp
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.management.utils import popen_wrapper
from django.test.utils import override_settings
from django.utils.translation import to_locale

# Not PeerHub's own strings: build output and tests (English by design). Hidden directories,
# .venv among them, are skipped by makemessages itself.
IGNORED = ["node_modules", "staticfiles", "var", "tests", "build", "dist"]


def shipped_locales() -> list[str]:
    """Every language but the one the code is written in, as locale names (pt_BR)."""
    return [to_locale(code) for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


@contextmanager
def _working_in(path: Path):
    here = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(here)


def gather(root: Path, locale_dir: Path) -> None:
    """makemessages over the tree at `root` for every shipped language into `locale_dir`,
    dropping obsolete messages and source locations (they churn with every edit)."""
    with _working_in(root), override_settings(LOCALE_PATHS=[str(locale_dir)]):
        call_command(
            "makemessages",
            locale=shipped_locales(),
            ignore_patterns=IGNORED,
            no_location=True,
            no_obsolete=True,
            verbosity=0,
        )


@contextmanager
def mirror(scratch: Path):
    """A copy of the project's sources and catalogues in `scratch` (not links: makemessages
    writes scratch files beside the templates it reads, and two checks at once must not meet
    in the real tree). Yields the catalogues' copy."""
    root = Path(settings.BASE_DIR)
    skip = shutil.ignore_patterns(*IGNORED, ".*", "__pycache__", "*.pyc", "*.mo")
    for entry in root.iterdir():
        if entry.name.startswith(".") or entry.name in IGNORED:
            continue
        if entry.is_dir():
            shutil.copytree(entry, scratch / entry.name, ignore=skip)
        elif entry.suffix in (".py", ".html", ".txt"):
            shutil.copy2(entry, scratch / entry.name)
    yield scratch / "locale"


def _read(po_path: Path):
    with po_path.open("rb") as handle:
        return read_po(handle)


def _ids(catalogue) -> set:
    return {message.id for message in catalogue if message.id}


def problems(po_path: Path) -> list[str]:
    """The messages of one catalogue that are untranslated or fuzzy."""
    found = []
    for message in _read(po_path):
        if not message.id:
            continue
        name = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            found.append(f"untranslated: {name!r}")
        elif message.fuzzy:
            found.append(f"fuzzy: {name!r}")
    return found


def compiled_matches(po_path: Path) -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "django.mo"
        # As compilemessages runs it (Django's own helper for gettext's programs).
        _, errors, status = popen_wrapper(
            ["msgfmt", "--check-format", "-o", str(fresh), str(po_path)]
        )
        if status:
            raise CommandError(f"msgfmt refused {po_path}: {errors}")
        return filecmp.cmp(fresh, po_path.with_suffix(".mo"), shallow=False)


class Command(BaseCommand):
    help = "Gather new strings into the translation catalogues and compile them (or --check)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; fail when a catalogue lags the code or its .mo its .po.",
        )

    def handle(self, *args, check: bool = False, **options):
        root = Path(settings.BASE_DIR)
        shipped = root / "locale"
        if not check:
            gather(root, shipped)
            with _working_in(root):
                call_command("compilemessages", ignore_patterns=IGNORED, verbosity=0)
            self.stdout.write(f"Catalogues gathered and compiled: {', '.join(shipped_locales())}")
            return
        report = []
        with tempfile.TemporaryDirectory() as scratch, mirror(Path(scratch)) as copy:
            gather(Path(scratch), copy)
            for locale in shipped_locales():
                ours = shipped / locale / "LC_MESSAGES" / "django.po"
                if not ours.exists():
                    report.append(f"{locale}: no catalogue at {ours}")
                    continue
                gathered = copy / locale / "LC_MESSAGES" / "django.po"
                report += [f"{locale}: {problem}" for problem in problems(gathered)]
                stale = _ids(_read(ours)) - _ids(_read(gathered))
                report += [f"{locale}: no longer in the code: {key!r}" for key in sorted(stale)]
                if not compiled_matches(ours):
                    report.append(f"{locale}: django.mo is not compiled from django.po")
        if report:
            raise CommandError(
                "The translation catalogues lag the code (run `manage.py catalogues`, then "
                "translate what is empty or fuzzy):\n  " + "\n  ".join(report)
            )
        self.stdout.write("Every catalogue is complete.")
