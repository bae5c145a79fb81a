"""Fixtures shared by the whole suite.

Service-backed tests (real PostgreSQL, Redis, a Celery worker, Chromium, docker-compose) skip
cleanly when the service is absent, and fail instead when PEERHUB_REQUIRE_SERVICES=1, as in the
second CI run, so a missing service can never pass unnoticed."""

import os
import shutil
import threading
from pathlib import Path
from unittest import mock

import pytest
from celery.result import _set_task_join_will_block
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.db import connection
from django.test import override_settings
from django.test.testcases import LiveServerThread
from rest_framework.test import APIClient

from peerhub.celery import app as celery_app

from .factories import UserFactory, add_totp
from .helpers import clear_caches

# Playwright's sync API runs an event loop in the test thread; Django must still allow the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("PEERHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def services_required() -> bool:
    return os.environ.get("PEERHUB_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def need(available: bool, what: str) -> None:
    """Skip without the service; fail when the run demands every service."""
    if available:
        return
    if services_required():
        pytest.fail(f"{what} is required (PEERHUB_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} is not available")


def using_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def using_redis() -> bool:
    return bool(settings.REDIS_URL)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under PEERHUB_REQUIRE_SERVICES=1 nothing may skip: a skip means a service is missing."""
    report = yield
    if report.skipped and services_required() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under PEERHUB_REQUIRE_SERVICES=1: {report.longrepr}"
    return report


@pytest.fixture(autouse=True)
def _files_storage(settings, tmp_path_factory):
    """Every test stores file blobs (challenges.files) and data exports (peerhub.exports) in
    directories of its own."""
    settings.STORAGES = {
        **settings.STORAGES,
        **{
            alias: {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {
                    "location": str(tmp_path_factory.mktemp(alias)),
                    "allow_overwrite": True,
                },
            }
            for alias in ("files", "exports")
        },
    }


@pytest.fixture(autouse=True)
def _simulation_report(settings, tmp_path_factory):
    """No test reads the figures a simulation run on this checkout wrote to var/ ("How
    reputation works" quotes them), nor those published with PeerHub: each starts with none."""
    settings.PEERHUB_SIMULATION_REPORT_DIR = tmp_path_factory.mktemp("simulation")
    settings.PEERHUB_SIMULATION_PUBLISHED = None


@pytest.fixture(autouse=True)
def _write_limits(request, settings):
    """Tests make many writes as one member in no time: the write throttles
    (peerhub.throttles) are on only for the tests marked `write_limits`, which test them."""
    settings.PEERHUB_WRITE_LIMITS_ENABLED = bool(request.node.get_closest_marker("write_limits"))


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts and ends in the site's language: a request through LocaleMiddleware
    leaves its language active in the thread, which the next test must not inherit."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _cache_per_test_process(worker_id):
    """With Redis, every xdist process gets its own key prefix: parallel tests must not reset
    each other's rate limits, and nothing may ever FLUSHDB the database the Celery broker uses."""
    if not using_redis():
        yield
        return
    caches = {
        alias: {**config, "KEY_PREFIX": f"peerhub-test-{worker_id}"}
        for alias, config in settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and throttles live in the cache: every test starts with none spent."""
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def page_cache_off(settings):
    """For query counts of rendering a page: with Redis (the second CI run) the anonymous page
    cache is on, and a second visit would be answered from it without a query."""
    settings.PEERHUB_PAGE_CACHE = False


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks run in-process unless a test asks for the real worker (marker `real_worker`)."""
    if request.node.get_closest_marker("real_worker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    # Celery guards result.get() with a process-wide flag that eager calls set and reset; two
    # threads running eager tasks at once (a browser test's live server and the test itself)
    # can leave it set. Each test starts with it cleared, as celery.contrib.testing does.
    _set_task_join_will_block(False)
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run an action and then what it queued for after commit, as a real commit would
    (inside a test's transaction nothing commits); tests.helpers.after_commit is the same as
    a context manager."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def unverified_user(db):
    return UserFactory(verified=False)


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser, with the two-factor authentication staff pages require."""
    add_totp(admin_user)
    return admin_user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def member_api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


@pytest.fixture
def member_client(client, user):
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def postgres():
    need(using_postgres(), "PostgreSQL (DATABASE_URL)")


@pytest.fixture
def redis_service():
    need(using_redis(), "Redis (REDIS_URL)")


# --- Browser -------------------------------------------------------------------------------


# Held by the live server for each whole request, and by the test's thread for each of its
# statements while the two share one in-memory SQLite connection (below).
_LIVE_SERVER_TURN = threading.RLock()


class SerialWSGIServer(WSGIServer):
    """The live server's server, one request at a time (and `Connection: close`, which Django
    sends when a server does not thread)."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override

    def process_request(self, request, client_address):
        with _LIVE_SERVER_TURN:
            super().process_request(request, client_address)


def _in_memory_sqlite() -> bool:
    database = settings.DATABASES["default"]
    return database["ENGINE"].endswith("sqlite3") and not database.get("TEST", {}).get("NAME")


@pytest.fixture(scope="session", autouse=True)
def _serial_live_server_on_memory_sqlite():
    """On an in-memory SQLite test database, Django hands the test's one connection to every
    thread of the live server, so two requests at once (a double click) would interleave their
    transactions on it, which no deployment does: SQLite's write lock orders them there (its
    transactions begin IMMEDIATE). There, the live server answers one request at a time.
    (Autouse and session-wide, so that it is in place before pytest-django starts the server.)"""
    if not _in_memory_sqlite():
        yield
        return
    with mock.patch.object(LiveServerThread, "server_class", SerialWSGIServer):
        yield


@pytest.fixture(autouse=True)
def _test_waits_for_the_live_server(request):
    """A browser test that writes between two page visits (a factory, a service call) must not
    write while the live server is still answering the page's last request (an htmx fragment,
    the notification bell) on the connection they share: SQLite refuses it with "database table
    is locked". On in-memory SQLite each of the test's statements waits for the request in
    flight to end; the server's own statements pass (the lock is re-entrant)."""
    if "live_server" not in request.fixturenames or not _in_memory_sqlite():
        yield
        return

    def take_turn(execute, sql, params, many, context):
        with _LIVE_SERVER_TURN:
            return execute(sql, params, many, context)

    with connection.execute_wrapper(take_turn):
        yield


def _need_chromium() -> None:
    need(Path(CHROMIUM).exists() or bool(shutil.which(CHROMIUM)), f"Chromium ({CHROMIUM})")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Checked here, not only in `chromium_available`: the session's browser is launched before
    # any function-scoped fixture of the first browser test runs.
    _need_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def chromium_available():
    _need_chromium()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
