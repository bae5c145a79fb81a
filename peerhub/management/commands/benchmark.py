"""`python manage.py benchmark`: every main page and API list against the current database
(the scale dataset: `seed_scale`), signed out and signed in as `bench`, each beside a bare view
measured in the same run (peerhub.bench).

    python manage.py benchmark [--only home solution ...] [--quick] [--no-load]
                               [--json FILE] [--compare FILE]
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from peerhub import bench
from peerhub.models import User


class Command(BaseCommand):
    help = "Time every main page and API list (in process and under gunicorn) against a bare view."

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="+", metavar="NAME", help="Only these targets.")
        parser.add_argument("--quick", action="store_true", help="Fewer requests, shorter load.")
        parser.add_argument("--no-load", action="store_true", help="Skip gunicorn.")
        parser.add_argument("--repeat", type=int, default=None, help="Requests per figure.")
        parser.add_argument("--seconds", type=float, default=None, help="Load per target.")
        parser.add_argument("--threads", type=int, default=8, help="Concurrent load clients.")
        parser.add_argument("--json", metavar="FILE", help="Write the figures here.")
        parser.add_argument("--compare", metavar="FILE", help="Print before → after.")

    def handle(self, *args, only, quick, no_load, repeat, seconds, threads, **options):
        member = User.objects.filter(username="bench").first()
        if member is None:
            raise CommandError("No member 'bench': seed the database first (seed_scale).")
        repeat = repeat or (5 if quick else 30)
        seconds = seconds or (1.0 if quick else 5.0)
        chosen = bench.select(bench.targets(), only)
        meta = {
            "database": connection.vendor,
            "name": str(connection.settings_dict["NAME"]),
            "members": User.objects.count(),
            "repeat": repeat,
            "seconds": seconds,
            "threads": threads,
            "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        self.stdout.write(
            f"{meta['database']} {meta['name']}: {meta['members']} members; {repeat} requests "
            f"per figure in process; load: {threads} clients x {seconds:g} s, 2 gunicorn workers"
        )
        figures = []
        for target in chosen:
            figures.append(bench.measure_in_process(target, repeat, member))
            self.stderr.write(f"  in process: {figures[-1].key} {figures[-1].median_ms:.0f} ms")
        if not no_load:
            cookie = bench.session_cookie(member)
            with bench.Gunicorn() as server:
                for target, figure in zip(chosen, figures, strict=True):
                    figure.rps, figure.errors = bench.load(
                        server.port,
                        target.path,
                        cookie if target.signed_in else "",
                        seconds=seconds,
                        threads=threads,
                    )
                    self.stderr.write(f"  under load: {figure.key} {figure.rps:.1f} req/s")
        for line in bench.table(figures):
            self.stdout.write(line)
        if options["json"]:
            bench.dump(figures, options["json"], meta)
            self.stdout.write(f"Figures: {options['json']}")
        if options["compare"]:
            self.stdout.write("")
            for line in bench.compare(bench.read(options["compare"]), figures):
                self.stdout.write(line)
