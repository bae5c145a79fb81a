"""Assertions and helpers shared by the tests of every app."""

import os
import re
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's one JSON error shape with this status (and code)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def clear_caches() -> None:
    """Empty this test process's caches. On Redis only the keys under the process's prefix go
    (tests/conftest.py gives each xdist process its own): Django's clear() is FLUSHDB, which
    would reset every other process's caches and the Celery broker's queues mid-test."""
    from django.conf import settings
    from django.core.cache import caches

    from peerhub import pagecache

    for alias in settings.CACHES:
        store = caches[alias]
        # A test's own cache (an unreachable Redis, tests/peerhub/test_redis_outage.py) clears
        # its own way.
        if settings.REDIS_URL and settings.CACHES[alias].get("LOCATION") == settings.REDIS_URL:
            client = store._cache.get_client(write=True)
            keys = list(client.scan_iter(match=f"{store.key_prefix}:*", count=500))
            if keys:
                client.delete(*keys)
        else:
            store.clear()
    pagecache._local.clear()
    pagecache._generation.reset()


def after_commit():
    """Run what the block queues with transaction.on_commit when the block ends, as a commit
    would: inside a test's transaction nothing commits. Use it where a test plays the worker
    that picks up queued work (a stored provider event, a refund to send)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll with a deadline: a worker's or a server's progress is observed, never assumed after
    a sleep."""
    import time

    import pytest

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def database_examples(env: str, default: int):
    """Hypothesis settings for a property test over database rows: `env` sets how many examples
    (more in a long run), no deadline (a transaction per example), and none of the health checks
    that a function-scoped database fixture and large drawn communities trip."""
    return hypothesis_settings(
        max_examples=int(os.environ.get(env, default)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


_CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"')


def page_main(client, url: str) -> str:
    """A page's <main>, without its CSRF tokens (each request masks its own), to compare what
    two members get."""
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    return _CSRF_TOKEN.sub(r'\1"', html[html.index("<main") : html.index("</main>")])


@contextmanager
def one_moment():
    """Every clock a page reads stopped at one moment: Django's `timezone.now` and the one
    humanize's "a second ago" reads (`datetime.now`), so that two renders of a page, live and
    kept, say a fresh time alike however long apart they run."""
    from django.contrib.humanize.templatetags import humanize
    from django.utils import timezone

    moment = timezone.now()

    class Stopped(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz is not None else timezone.make_naive(moment)

    with (
        mock.patch("django.utils.timezone.now", return_value=moment),
        mock.patch.object(humanize, "datetime", Stopped),
    ):
        yield moment
