"""Print how long the main pages and endpoints take, and how many queries they run, as data grows.

Everything the benchmark creates lives in one transaction that is rolled back at the end, so it
can run against any database (`DATABASE_URL` picks which) without leaving a trace.

    python manage.py benchmark --members 1000 5000 --repeat 20
"""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peerhub.models import ManifestoSignature, ManifestoVersion, User

TARGETS = [
    ("home", "/"),
    ("manifesto", "/manifesto/"),
    ("manifesto p.5", "/manifesto/?page=5"),
    ("api users", "/api/users/"),
    ("api manifesto", "/api/manifesto/"),
    ("api signatures", "/api/manifesto/signatures/"),
    ("healthz", "/healthz"),
]


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the main pages and endpoints and count their queries at growing data sizes."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, nargs="+", default=[100, 1000, 5000])
        parser.add_argument("--repeat", type=int, default=10)

    def handle(self, *args, members, repeat, **options):
        self.stdout.write(f"database: {connection.vendor}, {repeat} requests per figure")
        self.stdout.write(
            f"{'members':>8}  {'target':<16}{'median ms':>10}{'p95 ms':>9}{'queries':>9}"
        )
        try:
            with transaction.atomic():
                version = ManifestoVersion.objects.create(
                    number=10_000, title="Benchmark", preamble="p", body="b",
                    published_at=timezone.now(),
                )  # fmt: skip
                existing = 0
                for size in sorted(members):
                    self._grow(version, existing, size)
                    existing = size
                    for name, path in TARGETS:
                        self._measure(size, name, path, repeat)
                raise _Rollback
        except _Rollback:
            pass

    def _grow(self, version, start: int, stop: int) -> None:
        users = User.objects.bulk_create(
            User(username=f"bench-{i}", email=f"bench-{i}@example.org", display_name=f"Bench {i}")
            for i in range(start, stop)
        )
        ManifestoSignature.objects.bulk_create(
            ManifestoSignature(user=user, version=version) for user in users
        )

    def _measure(self, size: int, name: str, path: str, repeat: int) -> None:
        client = Client()
        timings = []
        queries = 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - began) * 1000)
            queries = len(captured)
            if response.status_code >= 400:
                self.stderr.write(f"{path} answered {response.status_code}")
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        self.stdout.write(
            f"{size:>8}  {name:<16}{statistics.median(timings):>10.1f}{p95:>9.1f}{queries:>9}"
        )
