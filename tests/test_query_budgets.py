"""Every main page and API list runs as many queries on a small community as on one four times
its size (the scale dataset's generator, marketplace.scale), and no more than its budget: the
counts of today, to be tightened. Pages are the benchmark's (peerhub.bench.targets)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from peerhub import bench
from peerhub.models import User
from tests.helpers import clear_caches

SMALL, LARGE = 60, 240

# The most queries each target may run: today's counts on SQLite (to be tightened).
BUDGETS = {
    ("home", False): 7,
    ("home", True): 10,
    ("manifesto", False): 4,
    ("manifesto", True): 8,
    ("challenges", False): 7,
    ("challenges", True): 14,
    ("proposals", False): 1,
    ("proposals", True): 5,
    ("search", False): 4,
    ("search", True): 6,
    ("leaderboard", False): 4,
    ("leaderboard", True): 6,
    ("rankings", False): 2,
    ("rankings", True): 4,
    ("how it works", False): 0,
    ("how it works", True): 2,
    ("profile", False): 13,
    ("profile", True): 16,
    ("reputation history", False): 8,
    ("reputation history", True): 10,
    ("marketplace", False): 3,
    ("marketplace", True): 9,
    ("api users", False): 2,
    ("api users", True): 4,
    ("api signatures", False): 3,
    ("api signatures", True): 5,
    ("api challenges", False): 6,
    ("api challenges", True): 8,
    ("api solutions", False): 3,
    ("api solutions", True): 5,
    ("api comments", False): 4,
    ("api comments", True): 6,
    ("api proposals", False): 1,
    ("api proposals", True): 3,
    ("api upstream", False): 1,
    ("api upstream", True): 3,
    ("api leaderboard", False): 2,
    ("api leaderboard", True): 4,
    ("api rankings", False): 2,
    ("api rankings", True): 4,
    ("api search", False): 3,
    ("api search", True): 5,
    ("api offers", False): 2,
    ("api offers", True): 4,
    ("api reputation", False): 7,
    ("api reputation", True): 9,
    # +1: whether the challenge has a prize purse (marketplace's challenge_sections hook)
    ("challenge", False): 21,
    ("challenge", True): 24,
    ("evolution", False): 12,
    ("evolution", True): 14,
    ("selection", False): 7,
    ("selection", True): 10,
    ("api challenge rankings", False): 8,
    ("api challenge rankings", True): 10,
    # +1: the files of the current revision and of the fork point (one query).
    ("solution", False): 16,
    ("solution", True): 21,
    ("lineage", False): 3,
    ("lineage", True): 5,
    ("history", False): 2,
    ("history", True): 4,
    ("api reviews", False): 5,
    ("api reviews", True): 7,
    # +1: both revisions' files (one query).
    ("diff", False): 4,
    ("diff", True): 6,
    ("offer", False): 6,
    ("offer", True): 9,
    ("notifications", True): 5,
    ("orders", True): 8,
    ("api me", True): 3,
    ("api notifications", True): 4,
    ("api follows", True): 4,
    ("api feed", True): 3,
    ("api orders", True): 6,
}


class _Rollback(Exception):
    pass


def _counts(members: int) -> dict[tuple[str, bool], tuple[int, int]]:
    """(queries, status) per target on a fresh seed of `members`, rolled back afterwards."""
    result = {}
    try:
        with transaction.atomic():
            call_command("seed_scale", members=members, i_know=True, stdout=io.StringIO())
            member = User.objects.get(username="bench")
            for target in bench.targets():
                clear_caches()
                client = Client()
                if target.signed_in:
                    client.force_login(member)
                client.get(target.path)  # the first request may fill caches; count the next
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(target.path)
                result[(target.name, target.signed_in)] = (len(captured), response.status_code)
            raise _Rollback
    except _Rollback:
        pass
    clear_caches()
    return result


_MEASURED: dict[int, dict] = {}


@pytest.fixture
def counts(db, settings):
    """Measured once per test process (two seeds and every target take a few seconds), with
    the anonymous page cache off and sessions in the database (with Redis they are cached once
    read, which would make the first request of a size cost one more): the counts are of
    rendering the pages."""
    settings.PEERHUB_PAGE_CACHE = False
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    if not _MEASURED:
        _MEASURED.update({SMALL: _counts(SMALL), LARGE: _counts(LARGE)})
    return _MEASURED


def _names() -> list[tuple[str, bool]]:
    """The benchmark's targets, known without a database (objects' paths do not matter)."""
    pages = [
        "home", "manifesto", "challenges", "proposals", "search", "leaderboard", "rankings",
        "how it works", "profile", "reputation history", "marketplace", "api users",
        "api signatures", "api challenges", "api solutions", "api comments", "api proposals",
        "api upstream", "api leaderboard", "api rankings", "api search", "api offers",
        "api reputation", "challenge", "evolution", "selection", "api challenge rankings",
        "solution", "lineage", "history", "api reviews", "diff", "offer",
    ]  # fmt: skip
    members_only = [
        "notifications", "orders", "api me", "api notifications", "api follows", "api feed",
        "api orders",
    ]  # fmt: skip
    return [(n, s) for n in pages for s in (False, True)] + [(n, True) for n in members_only]


@pytest.mark.parametrize(("name", "signed_in"), _names(), ids=lambda v: str(v))
def test_queries_do_not_grow_with_the_community(counts, name, signed_in):
    small, small_status = counts[SMALL][(name, signed_in)]
    large, large_status = counts[LARGE][(name, signed_in)]
    assert small_status == large_status == 200
    assert small == large, f"{name}: {small} queries at {SMALL} members, {large} at {LARGE}"
    assert large <= BUDGETS[(name, signed_in)]


def test_every_benchmark_target_has_a_budget_test(counts):
    assert set(counts[SMALL]) - {(bench.BARE, False), (bench.BARE, True)} == set(_names())
