"""Build a big challenge (many members, solutions, scores, comments) with bulk inserts, and time
its page.

    python manage.py bench_challenge_page --build --users 20000 --solutions 1200 \
        --other-solutions 47000 --comments 4730
    python manage.py bench_challenge_page --repeat 20

--build writes for good into the database DATABASE_URL names: use a scratch database. Rows
are made the way the services would leave them (paths, counters, threads, rendered HTML), not
through the services, so that building 50,000 rows takes seconds. Scores are written through
the app registry: challenges does not import reputation."""

import random
import statistics
import time

from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peerhub.markdown import render_markdown
from peerhub.models import User

from ...models import Challenge, Comment, Revision, Solution

SLUG = "bench-big"
BODY = "A **comment** with a [link](https://example.org) and a list:\n\n- one\n- two\n"
SOLUTION_BODY = "## A solution\n\n" + "\n".join(f"- step {i}" for i in range(30))
BIG_LINEAGE = 600  # forks under the first root, beyond what the page reads of one tree


class Command(BaseCommand):
    help = "Build a big challenge in bulk (--build) and time its page, anonymous and signed in."

    def add_arguments(self, parser):
        parser.add_argument("--build", action="store_true")
        parser.add_argument("--users", type=int, default=20000)
        parser.add_argument("--solutions", type=int, default=1200)
        parser.add_argument("--other-solutions", type=int, default=47000)
        parser.add_argument("--comments", type=int, default=4730)
        parser.add_argument("--repeat", type=int, default=10)
        parser.add_argument("--seed", type=int, default=17)

    def handle(self, *args, build, repeat, seed, **options):
        if build:
            sizes = {k: options[k] for k in ("users", "solutions", "other_solutions", "comments")}
            with transaction.atomic():
                build_big_challenge(random.Random(seed), **sizes)
        self.measure(repeat)

    def measure(self, repeat: int) -> None:
        challenge = Challenge.objects.get(slug=SLUG)
        member = challenge.organisers.first()
        url = challenge.get_absolute_url()
        for label, client in (("anonymous", Client()), ("signed in", Client())):
            if label == "signed in":
                client.force_login(member)
            client.get(url)  # warm caches and connections
            times, cpu = [], []
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as queries:
                    start, start_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    times.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
            # CPU time of this process (Python, not the database): steadier on a busy machine.
            self.stdout.write(
                f"GET {url} {label}: status {response.status_code}, median "
                f"{statistics.median(times) * 1000:.0f} ms ({statistics.median(cpu) * 1000:.0f} ms "
                f"CPU), {len(queries)} queries, "
                f"{len(response.content) / 1024:.0f} KiB"
            )


def build_big_challenge(
    rnd: random.Random,
    *,
    users: int,
    solutions: int,
    other_solutions: int,
    comments: int,
    slug: str = SLUG,
    big_lineage: int = BIG_LINEAGE,
) -> Challenge:
    now = timezone.now()
    members = User.objects.bulk_create(
        (
            User(username=f"{slug}-{i}", email=f"{slug}-{i}@example.org", display_name=f"B {i}")
            for i in range(users)
        ),
        batch_size=2000,
    )
    EmailAddress.objects.bulk_create(
        (EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in members),
        batch_size=2000,
    )
    organiser = members[0]
    challenge = Challenge.objects.create(
        slug=slug,
        title="A big challenge",
        summary="Built in bulk to measure its page.",
        problem="How fast is a big page?",
        status=Challenge.Status.OPEN,
        created_by=organiser,
        opens_at=now,
    )
    challenge.organisers.add(organiser)
    other = Challenge.objects.create(
        slug=f"{slug}-others",
        title="Everything else",
        summary="The rest of the platform's solutions and scores.",
        status=Challenge.Status.OPEN,
        created_by=organiser,
        opens_at=now,
    )
    _solutions(rnd, challenge, members, solutions, now, big_lineage=big_lineage)
    if other_solutions:
        _solutions(rnd, other, members, other_solutions, now, big_lineage=0, forks=False)
    _scores(challenge)
    _scores(other)
    _comments(rnd, challenge, members, comments, now)
    Challenge.objects.filter(pk=challenge.pk).update(
        solution_count=solutions, comment_count=comments
    )
    return challenge


def _solutions(rnd, challenge, members, count, now, *, big_lineage: int, forks=True):
    """Roots, then (when `forks`) `big_lineage` forks of the first root and a fork or two under
    some others; every one with its first revision."""
    n_roots = count if not forks else max(2, (count - big_lineage) // 2)
    rows = Solution.objects.bulk_create(
        (
            Solution(
                challenge=challenge,
                author=rnd.choice(members),
                title=f"Solution {i}",
                status=Solution.Status.PUBLISHED,
                published_at=now,
                revision_count=1,
            )
            for i in range(n_roots)
        ),
        batch_size=2000,
    )
    for row in rows:
        row.root_id, row.path = row.pk, f"/{row.pk}/"
    _revisions(rows, now)
    Solution.objects.bulk_update(rows, ["root", "path", "current_revision"], batch_size=2000)
    if not forks:
        return rows
    parents = [rows[0]] * big_lineage + [
        rnd.choice(rows[1:]) for _ in range(count - n_roots - big_lineage)
    ]
    fork_rows = Solution.objects.bulk_create(
        (
            Solution(
                challenge=challenge,
                author=rnd.choice(members),
                title=f"Fork {i} of {parent.title}",
                status=Solution.Status.PUBLISHED,
                published_at=now,
                revision_count=1,
                parent=parent,
                root_id=parent.pk,
                generation=1,
                forked_from_revision_id=parent.current_revision_id,
            )
            for i, parent in enumerate(parents)
        ),
        batch_size=2000,
    )
    for row in fork_rows:
        row.path = f"/{row.root_id}/{row.pk}/"
    _revisions(fork_rows, now)
    Solution.objects.bulk_update(fork_rows, ["path", "current_revision"], batch_size=2000)
    forks_of: dict[int, int] = {}
    for parent in parents:
        forks_of[parent.pk] = forks_of.get(parent.pk, 0) + 1
    for row in rows:
        row.fork_count = row.descendant_count = forks_of.get(row.pk, 0)
    Solution.objects.bulk_update(rows, ["fork_count", "descendant_count"], batch_size=2000)
    return rows + fork_rows


def _revisions(rows, now):
    html = str(render_markdown(SOLUTION_BODY))
    revisions = Revision.objects.bulk_create(
        (
            Revision(
                solution=row,
                number=1,
                title=row.title,
                body=SOLUTION_BODY,
                body_html=html,
                author_id=row.author_id,
                created_at=now,
            )
            for row in rows
        ),
        batch_size=2000,
    )
    for row, revision in zip(rows, revisions, strict=True):
        row.current_revision = revision


def _scores(challenge):
    score = apps.get_model("reputation", "SolutionScore")
    ids = list(
        Solution.objects.filter(challenge=challenge).order_by("?").values_list("pk", flat=True)
    )
    score.objects.bulk_create(
        (
            score(
                solution_id=pk,
                challenge=challenge,
                fitness=100 - rank * 99 / len(ids),
                rank=rank + 1,
            )
            for rank, pk in enumerate(ids)
        ),
        batch_size=2000,
    )


def _comments(rnd, challenge, members, count, now):
    """About a third top-level; the rest replies to a random earlier comment of a thread."""
    html = str(render_markdown(BODY))
    made: list[Comment] = []
    for start in range(0, count, 1000):
        batch = []
        for _ in range(min(1000, count - start)):
            parent = rnd.choice(made) if made and rnd.random() < 0.66 else None
            batch.append(
                Comment(
                    author=rnd.choice(members),
                    challenge=challenge,
                    parent=parent,
                    thread_id=None if parent is None else parent.thread_root_id,
                    body=BODY,
                    body_html=html,
                    created_at=now,
                )
            )
        made += Comment.objects.bulk_create(batch)
