"""Print how long reading and drawing a lineage takes, and how many queries it runs, as the
lineage grows.

Inside one transaction that is rolled back at the end (so it leaves nothing behind, on any
database `DATABASE_URL` picks), it grows one lineage to each requested size and measures, for a
node at the deepest generation:

- `selectors.lineage_for(user=AnonymousUser(), solution=node)`;
- `lineage_svg(...)` of that lineage, drawn afresh each time (pure Python: no queries);
- `GET /solutions/<pk>/`, `GET /solutions/<pk>/lineage/` and `GET /api/solutions/<pk>/lineage/`
  through the test client, each skipped with a note while its URL does not exist.

Up to --bulk-above nodes, forks are made by `services.solution_fork`; beyond, rows are bulk-created
with exactly the root, path, generation, parent, source revision, current revision and counters
the service would set, and the whole lineage is checked before anything is measured.

    python manage.py bench_lineage --nodes 100 500 5000 --repeat 20
"""

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django.utils import timezone

from peerhub.models import User

from ... import selectors, services
from ...lineage_svg import lineage_svg
from ...models import Challenge, Revision, Solution

MAX_GENERATION = 50  # keeps paths short on every database, however many nodes
SPINE_SHARE = 0.1  # share of forks that extend the deepest branch; the rest fork anywhere
AUTHORS = 12

BODY = """\
## Benchmark solution

A body of realistic length, so that pages that render it pay a realistic price.

| item | quantity | cost |
|---|---|---|
| part A | 4 | €12.00 |
| part B | 2 | €3.50 |

"""
BODY += "\n".join(
    f"- Step {i}: something concrete happens here, numbered {i * 7}." for i in range(40)
)

HTTP_TARGETS = [
    ("GET solution page", "/solutions/{pk}/"),
    ("GET lineage page", "/solutions/{pk}/lineage/"),
    ("GET api lineage", "/api/solutions/{pk}/lineage/"),
]


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time lineage_for, lineage_svg and the lineage pages and API as one lineage grows."

    def add_arguments(self, parser):
        parser.add_argument("--nodes", type=int, nargs="+", default=[500])
        parser.add_argument("--repeat", type=int, default=10)
        parser.add_argument(
            "--bulk-above",
            type=int,
            default=1000,
            help="Grow by bulk-created rows beyond this many nodes (services below).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Shape of the random tree.")

    def handle(self, *args, nodes, repeat, bulk_above, seed, **options):
        if min(nodes) < 2 or repeat < 1:
            raise CommandError("--nodes must be at least 2 and --repeat at least 1.")
        self.random = random.Random(seed)
        self.stdout.write(
            f"database: {connection.vendor}, {repeat} runs per figure, "
            f"forks by services up to {bulk_above} nodes, bulk rows beyond"
        )
        self.stdout.write(
            f"{'nodes':>7}{'depth':>7}  {'target':<22}{'median ms':>10}{'p95 ms':>9}{'queries':>9}"
        )
        try:
            with transaction.atomic():
                self._setup()
                for size in sorted(set(nodes)):
                    began = time.perf_counter()
                    how = "services" if size <= bulk_above else "bulk rows"
                    if how == "services":
                        self._grow_with_services(size)
                    else:
                        self._grow_in_bulk(size)
                    self._check()
                    built = time.perf_counter() - began
                    self.stdout.write(
                        f"{size:>7}{self.depth:>7}  built with {how} in {built:.1f} s, "
                        "lineage checked"
                    )
                    self._measure_all(size, repeat)
                raise _Rollback
        except _Rollback:
            pass

    # --- Building ----------------------------------------------------------------------------

    def _setup(self) -> None:
        stamp = timezone.now()
        self.authors = User.objects.bulk_create(
            User(
                username=f"bench-lineage-{i}",
                email=f"bench-lineage-{i}@example.org",
                display_name=f"Bench author {i}",
            )
            for i in range(AUTHORS)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True)
            for user in self.authors
        )
        self.challenge = Challenge.objects.create(
            slug=f"bench-lineage-{stamp:%Y%m%d%H%M%S%f}",
            title="Benchmark lineage",
            summary="A challenge that only exists inside the benchmark's transaction.",
            problem="Grow a big lineage.",
            status=Challenge.Status.OPEN,
            created_by=self.authors[0],
            opens_at=stamp,
            closes_at=stamp + timezone.timedelta(days=30),
        )
        self.challenge.organisers.add(self.authors[0])
        root = services.solution_create(
            challenge=self.challenge, author=self.authors[0], title="Benchmark root", body=BODY
        )
        # In-memory mirror of the tree: what bulk growth and the checks work from.
        self.nodes: list[Solution] = [root]
        self.children: dict[int, list[int]] = defaultdict(list)
        self.deepest = root

    @property
    def depth(self) -> int:
        return self.deepest.generation

    def _plan_parent(self) -> Solution:
        """Fork the deepest node now and then (so that a long branch exists), else any node."""
        if self.deepest.generation < MAX_GENERATION and self.random.random() < SPINE_SHARE:
            return self.deepest
        while True:
            candidate = self.random.choice(self.nodes)
            if candidate.generation < MAX_GENERATION:
                return candidate

    def _grow_with_services(self, size: int) -> None:
        while len(self.nodes) < size:
            parent = self._plan_parent()
            author = self.authors[len(self.nodes) % AUTHORS]
            fork = services.solution_fork(
                source=parent, by=author, title=f"Benchmark fork {len(self.nodes)}"
            )
            self._adopt(fork)

    def _grow_in_bulk(self, size: int) -> None:
        """Plan the new forks, then create them one generation at a time (a fork's source
        revision must exist before the fork): rows, then their first revisions, then the fields
        that need both ids (path, current revision), then every counter along the way."""
        planned: dict[int, list[tuple[Solution, Solution]]] = defaultdict(list)
        now = timezone.now()
        count = len(self.nodes)
        # Planned nodes must be choosable as parents before they exist: use placeholders.
        while count < size:
            parent = self._plan_parent()
            author = self.authors[count % AUTHORS]
            placeholder = Solution(
                challenge=self.challenge,
                author=author,
                title=f"Benchmark fork {count}",
                status=Solution.Status.PUBLISHED,
                parent=parent,
                generation=parent.generation + 1,
                published_at=now,
                created_at=now,
                updated_at=now,
                revision_count=1,
            )
            planned[placeholder.generation].append((parent, placeholder))
            self.nodes.append(placeholder)
            if placeholder.generation > self.deepest.generation:
                self.deepest = placeholder
            count += 1
        for generation in sorted(planned):
            pairs = planned[generation]
            rows = []
            for parent, row in pairs:
                row.parent = parent  # the parent now has its primary key
                row.forked_from_revision_id = parent.current_revision_id
                row.root_id = parent.root_id
                rows.append(row)
            Solution.objects.bulk_create(rows)
            revisions = Revision.objects.bulk_create(
                Revision(
                    solution=row,
                    number=1,
                    title=row.title,
                    body=BODY,
                    message=f"Forked from “{parent.title}” revision 1 by {parent.author.name}",
                    author=row.author,
                    created_at=now,
                )
                for parent, row in pairs
            )
            for (parent, row), revision in zip(pairs, revisions, strict=True):
                row.path = f"{parent.path}{row.pk}/"
                row.current_revision = revision
                self.children[parent.pk].append(row.pk)
            Solution.objects.bulk_update(rows, ["path", "current_revision"], batch_size=500)
        self._bulk_counters()
        Challenge.objects.filter(pk=self.challenge.pk).update(solution_count=len(self.nodes))

    def _adopt(self, fork: Solution) -> None:
        self.nodes.append(fork)
        self.children[fork.parent_id].append(fork.pk)
        if fork.generation > self.deepest.generation:
            self.deepest = fork

    def _bulk_counters(self) -> None:
        """fork_count and descendant_count as solution_fork keeps them, for every node."""
        descendants: dict[int, int] = {}
        for node in sorted(self.nodes, key=lambda n: -n.generation):
            descendants[node.pk] = sum(1 + descendants[c] for c in self.children[node.pk])
        for node in self.nodes:
            node.fork_count = len(self.children[node.pk])
            node.descendant_count = descendants[node.pk]
        Solution.objects.bulk_update(self.nodes, ["fork_count", "descendant_count"], batch_size=500)

    def _check(self) -> None:
        """The stored lineage obeys the rules the services keep; fail loudly if not."""
        rows = {
            s.pk: s
            for s in Solution.objects.filter(root_id=self.nodes[0].pk).only(
                "pk", "parent_id", "root_id", "generation", "path", "forked_from_revision_id",
                "current_revision_id", "fork_count", "descendant_count", "revision_count",
            )
        }  # fmt: skip
        revision_owner = dict(
            Revision.objects.filter(solution_id__in=rows).values_list("pk", "solution_id")
        )
        by_path = sorted(row.path for row in rows.values())
        problems = []
        for row in rows.values():
            parent = rows.get(row.parent_id)
            if row.parent_id is None:
                ok = row.generation == 0 and row.path == f"/{row.pk}/" and row.root_id == row.pk
            else:
                ok = (
                    parent is not None
                    and row.generation == parent.generation + 1
                    and row.path == f"{parent.path}{row.pk}/"
                    and revision_owner.get(row.forked_from_revision_id) == parent.pk
                )
            ok = ok and revision_owner.get(row.current_revision_id) == row.pk
            ok = ok and row.fork_count == len(self.children[row.pk])
            if not ok:
                problems.append(row.pk)
        if len(rows) != len(self.nodes) or problems:
            raise CommandError(
                f"inconsistent lineage: {len(rows)} rows for {len(self.nodes)} nodes, "
                f"bad nodes {problems[:10]}"
            )
        root = rows[self.nodes[0].pk]
        if root.descendant_count != len(by_path) - 1:
            raise CommandError("the root's descendant count does not match the tree")

    # --- Measuring ---------------------------------------------------------------------------

    def _measure_all(self, size: int, repeat: int) -> None:
        node = Solution.objects.get(pk=self.deepest.pk)
        anonymous = AnonymousUser()
        lineage = None

        def read():
            nonlocal lineage
            lineage = selectors.lineage_for(user=anonymous, solution=node)

        if not self._measure(size, "lineage_for", read, repeat):
            return
        if lineage.size != size:
            self.stderr.write(f"lineage_for saw {lineage.size} of {size} nodes")
        # Drawn every time: the cached drawing is a cache read (lineage_svg.DRAWING_TIMEOUT).
        self._measure(
            size, "lineage_svg", lambda: lineage_svg.uncached(lineage, label=node.title), repeat
        )
        client = Client()
        for name, pattern in HTTP_TARGETS:
            path = pattern.format(pk=node.pk)
            if not _routed(path):
                self.stdout.write(f"{size:>7}{self.depth:>7}  {name:<22}skipped: {path} not routed")
                continue
            self._measure(size, name, lambda path=path: _get(client, path), repeat)

    def _measure(self, size: int, name: str, call: Callable[[], object], repeat: int) -> bool:
        timings, queries = [], []
        try:
            call()  # warm-up: templates, caches and imports are not what we measure
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    call()
                    timings.append((time.perf_counter() - began) * 1000)
                queries.append(len(captured))
        except Exception as error:  # a target still being built must not stop the whole run
            message = f"{type(error).__name__}: {error}".splitlines()[0][:90]
            self.stdout.write(f"{size:>7}{self.depth:>7}  {name:<22}skipped: {message}")
            return False
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        low, high = min(queries), max(queries)
        counted = f"{low}" if low == high else f"{low}-{high}"
        self.stdout.write(
            f"{size:>7}{self.depth:>7}  {name:<22}"
            f"{statistics.median(timings):>10.1f}{p95:>9.1f}{counted:>9}"
        )
        return True


def _routed(path: str) -> bool:
    """Whether a real view answers `path` (not the API's catch-all 404)."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.url_name is not None or getattr(match.func, "__name__", "") != "api_not_found"


def _get(client: Client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
