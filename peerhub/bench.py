"""The benchmark behind `manage.py benchmark`: every main page and API list, signed out and
signed in as `bench`, against the current database (the scale dataset, `seed_scale`).

Each target is measured twice in the same run as a bare view (peerhub.bench_urls: one trivial
view behind the same middleware), so figures are read as a ratio to what Django itself costs
on this machine:
- in process, through the test Client: server time per request (median, p95) and queries;
- under load, through real gunicorn (2 sync workers on a free loopback port, started and
  stopped here): requests per second from a small threaded HTTP load generator.
"""

import contextlib
import gc
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

BARE = "bare view"
BARE_PATH = "/__bench__/bare/"
HOST = "127.0.0.1"


@dataclass
class Target:
    name: str
    path: str
    signed_in: bool = False


@dataclass
class Figure:
    name: str
    path: str
    signed_in: bool
    status: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    queries: int = 0
    rps: float | None = None
    errors: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name} ({'in' if self.signed_in else 'out'})"


def targets() -> list[Target]:
    """The pages and lists, each on the busiest object the database holds."""
    from challenges.models import Challenge, Solution
    from marketplace.models import Offer

    challenge = Challenge.objects.order_by("-solution_count", "pk").first()
    solution = Solution.objects.order_by("-descendant_count", "pk").first()
    fork = Solution.objects.filter(parent__isnull=False).order_by("-descendant_count", "pk").first()
    offer = Offer.objects.order_by("pk").first()
    pages = [
        ("home", "/"),
        ("manifesto", "/manifesto/"),
        ("challenges", "/challenges/"),
        ("proposals", "/proposals/"),
        ("search", "/search/?q=solar"),
        ("leaderboard", "/leaderboard/"),
        ("rankings", "/rankings/"),
        ("how it works", "/how-reputation-works/"),
        ("profile", "/u/bench/"),
        ("reputation history", "/u/bench/reputation/"),
        ("marketplace", "/marketplace/"),
        ("api users", "/api/users/"),
        ("api signatures", "/api/manifesto/signatures/"),
        ("api challenges", "/api/challenges/"),
        ("api solutions", "/api/solutions/"),
        ("api comments", "/api/comments/"),
        ("api proposals", "/api/challenge-proposals/"),
        ("api upstream", "/api/upstream-proposals/"),
        ("api leaderboard", "/api/leaderboard/"),
        ("api rankings", "/api/rankings/"),
        ("api search", "/api/search/?q=solar"),
        ("api offers", "/api/offers/"),
        ("api reputation", "/api/users/bench/reputation/"),
    ]
    if challenge:
        slug = challenge.slug
        pages += [
            ("challenge", f"/challenges/{slug}/"),
            ("evolution", f"/challenges/{slug}/evolution/"),
            ("selection", f"/challenges/{slug}/selection/"),
            ("api challenge rankings", f"/api/challenges/{slug}/rankings/"),
        ]
    if solution:
        pages += [
            ("solution", f"/solutions/{solution.pk}/"),
            ("lineage", f"/solutions/{solution.pk}/lineage/"),
            ("history", f"/solutions/{solution.pk}/history/"),
            ("api reviews", f"/api/solutions/{solution.pk}/reviews/"),
        ]
    if fork:
        pages.append(("diff", f"/solutions/{fork.pk}/diff/"))
    if offer:
        pages.append(("offer", f"/marketplace/offers/{offer.pk}/"))
    members_only = [
        ("notifications", "/notifications/"),
        ("orders", "/marketplace/orders/"),
        ("api me", "/api/me/"),
        ("api notifications", "/api/notifications/"),
        ("api follows", "/api/follows/"),
        ("api feed", "/api/feed/"),
        ("api orders", "/api/orders/"),
    ]
    result = [Target(BARE, BARE_PATH), Target(BARE, BARE_PATH, signed_in=True)]
    for name, path in pages:
        result += [Target(name, path), Target(name, path, signed_in=True)]
    result += [Target(name, path, signed_in=True) for name, path in members_only]
    return result


def select(all_targets: list[Target], only: list[str] | None) -> list[Target]:
    if not only:
        return all_targets
    wanted = {name.lower() for name in only}
    return [t for t in all_targets if t.name == BARE or t.name.lower() in wanted]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure_in_process(target: Target, repeat: int, member) -> Figure:
    client = Client(HTTP_HOST=HOST)
    if target.signed_in:
        client.force_login(member)
    figure = Figure(target.name, target.path, target.signed_in)
    timings = []
    with override_settings(ROOT_URLCONF="peerhub.bench_urls"):
        client.get(target.path)  # warm: caches, templates, the connection
        # The garbage the pages before this one left is collected now, not during one of this
        # page's requests (with 15 of them, the p95 is the slowest: it read one such pause).
        gc.collect()
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(target.path)
                timings.append((time.perf_counter() - began) * 1000)
            figure.queries = len(captured)
            figure.status = response.status_code
    figure.median_ms = statistics.median(timings)
    figure.p95_ms = _percentile(timings, 0.95)
    return figure


def session_cookie(member) -> str:
    client = Client(HTTP_HOST=HOST)
    client.force_login(member)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- Under load, through gunicorn -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with 2 sync workers on a free loopback port, for the length of a `with`."""

    def __init__(self, workers: int = 2):
        self.port = free_port()
        self.workers = workers
        self.process = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)

    def __enter__(self):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get(
            "DJANGO_SETTINGS_MODULE", "peerhub.settings"))  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "peerhub.bench_wsgi:application",
                f"--bind={HOST}:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                "--timeout=60",
                "--log-level=warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,  # a file: a pipe nobody reads would block the workers when full
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn stopped: {self.log.read().decode()[-500:]}")
            try:
                if _get(self.port, BARE_PATH, "")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _get(port: int, path: str, cookie: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        conn.close()


def load(port: int, path: str, cookie: str, *, seconds: float, threads: int) -> tuple[float, int]:
    """Requests per second that `threads` clients get for `seconds`, and how many failed."""
    done, errors = [0], [0]
    lock = threading.Lock()
    stop = 0.0  # set once the workers are warm

    def client():
        while time.monotonic() < stop:
            try:
                status, _ = _get(port, path, cookie)
                ok = status < 400
            except OSError:
                ok = False
            with lock:
                done[0] += 1
                errors[0] += 0 if ok else 1

    for _ in range(4):  # warm both workers: imports, templates, connections
        with contextlib.suppress(OSError):
            _get(port, path, cookie)
    stop = time.monotonic() + seconds
    began = time.monotonic()
    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 60)
    return done[0] / (time.monotonic() - began), errors[0]


# --- Report -----------------------------------------------------------------------------------


def ratios(figures: list[Figure]) -> dict[str, tuple[float | None, float | None]]:
    """Per figure: its median time over the bare view's, and its throughput over the bare's."""
    bare = {f.signed_in: f for f in figures if f.name == BARE}
    result = {}
    for f in figures:
        b = bare.get(f.signed_in)
        time_ratio = f.median_ms / b.median_ms if b and b.median_ms else None
        rps_ratio = f.rps / b.rps if b and b.rps and f.rps is not None else None
        result[f.key] = (time_ratio, rps_ratio)
    return result


def table(figures: list[Figure]) -> list[str]:
    ratio = ratios(figures)
    lines = [
        f"{'target':<32}{'status':>7}{'median ms':>10}{'p95 ms':>9}{'queries':>8}"
        f"{'x bare':>8}{'req/s':>8}{'of bare':>9}"
    ]
    for f in figures:
        t, r = ratio[f.key]
        rps = f"{f.rps:>8.1f}" if f.rps is not None else f"{'—':>8}"
        of_bare = f"{r:>8.0%} " if r is not None else f"{'—':>9}"
        errors = f"  ({f.errors} failed)" if f.errors else ""
        lines.append(
            f"{f.key:<32}{f.status:>7}{f.median_ms:>10.1f}{f.p95_ms:>9.1f}{f.queries:>8}"
            f"{(t or 0):>8.1f}{rps}{of_bare}{errors}"
        )
    return lines


def compare(before: list[dict], after: list[Figure]) -> list[str]:
    old = {Figure(**{k: v for k, v in row.items()}).key: row for row in before}
    lines = [f"{'target':<32}{'median ms':>20}{'queries':>14}{'req/s':>18}"]
    for f in after:
        row = old.get(f.key)
        if row is None:
            continue
        rps_old = f"{row['rps']:.1f}" if row.get("rps") is not None else "—"
        rps_new = f"{f.rps:.1f}" if f.rps is not None else "—"
        lines.append(
            f"{f.key:<32}{row['median_ms']:>9.1f} → {f.median_ms:<8.1f}"
            f"{row['queries']:>5} → {f.queries:<6}{rps_old:>8} → {rps_new:<8}"
        )
    return lines


def dump(figures: list[Figure], path: str, meta: dict) -> None:
    Path(path).write_text(
        json.dumps({"meta": meta, "figures": [asdict(f) for f in figures]}, indent=1)
    )


def read(path: str) -> list[dict]:
    return json.loads(Path(path).read_text())["figures"]
