"""The site keeps serving while Redis is unreachable (peerhub.redis_cache), with no service
running: a RedisCache pointed at a port where nothing listens answers misses and no-ops, asks
Redis at most once per breaker window, warns once per outage; the write throttles, allauth's
rate limits and the sessions go on without it; and a page-cache bump lost in an outage never
lets an old page out once the cache answers again (peerhub.pagecache)."""

import logging
import socket
from unittest import mock

import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.urls import reverse

from challenges import services as challenge_services
from peerhub import pagecache, redis_cache
from peerhub.redis_cache import RedisCache
from peerhub.throttles import write_spend
from tests.factories import PASSWORD, ChallengeFactory, UserFactory, make_solution


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens: bound, then closed, so a connect is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def down(settings):
    """A RedisCache at a refused port, on an injected clock."""
    settings.PEERHUB_CACHE_RETRY_SECONDS = 5
    cache = RedisCache(
        f"redis://127.0.0.1:{refused_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1}},
    )
    cache.clock = Clock()
    yield cache
    redis_cache._breakers.pop(",".join(cache._servers), None)


def connects():
    """A spy on every connection attempt redis-py makes."""
    original = redis.connection.Connection._connect
    return mock.patch.object(
        redis.connection.Connection, "_connect", autospec=True, side_effect=original
    )


# --- The cache degrades ------------------------------------------------------------------------


def test_every_operation_degrades_to_a_miss_or_a_failed_write(down):
    down.clock.now += 100  # each call below asks Redis afresh
    results = {}
    for name, call in {
        "get": lambda: down.get("k", "default"),
        "get_many": lambda: down.get_many(["a", "b"]),
        "has_key": lambda: down.has_key("k"),
        "add": lambda: down.add("k", 1),
        "set": lambda: down.set("k", 1),
        "touch": lambda: down.touch("k"),
        "delete": lambda: down.delete("k"),
        "set_many": lambda: down.set_many({"a": 1, "b": 2}),
        "delete_many": lambda: down.delete_many(["a"]),
        "get_or_set": lambda: down.get_or_set("k", "fallback"),
    }.items():
        results[name] = call()
        down.clock.now += 100
    assert results == {
        "get": "default",
        "get_many": {},
        "has_key": False,
        "add": False,
        "set": None,
        "touch": False,
        "delete": False,
        "set_many": ["a", "b"],
        "delete_many": None,
        "get_or_set": "fallback",
    }
    with pytest.raises(ValueError):
        down.incr("k")
    down.clock.now += 100
    with pytest.raises(ValueError):
        down.decr("k")


def test_a_data_error_still_raises(down):
    with (
        mock.patch.object(DjangoRedisCache, "get", side_effect=redis.exceptions.ResponseError),
        pytest.raises(redis.exceptions.ResponseError),
    ):
        down.get("k")
    assert not down.breaker.down


def test_the_breaker_skips_redis_within_its_window(down):
    with connects() as spy:
        assert down.get("k") is None
        tried = spy.call_count
        assert tried >= 1
        assert not down.available()
        down.clock.now += 4.9
        assert down.get("k") is None
        assert down.add("k", 1) is False
        assert down.get_many(["k"]) == {}
        assert spy.call_count == tried  # no connection attempted within the window
        down.clock.now += 0.2
        assert down.available()
        assert down.get("k") is None
        assert spy.call_count > tried  # asked again once the window has passed


def test_the_breaker_window_is_a_setting(down, settings):
    settings.PEERHUB_CACHE_RETRY_SECONDS = 30
    with connects() as spy:
        down.get("k")
        tried = spy.call_count
        down.clock.now += 29
        down.get("k")
        assert spy.call_count == tried


def test_one_warning_per_outage_and_one_when_redis_is_back(down, caplog):
    answers = [redis.exceptions.ConnectionError("refused")] * 3 + ["value"] * 2
    answers += [redis.exceptions.TimeoutError("timed out")] * 2
    with (
        mock.patch.object(DjangoRedisCache, "get", side_effect=answers),
        caplog.at_level(logging.WARNING, logger="peerhub.redis_cache"),
    ):
        for _ in range(3):
            assert down.get("k") is None
            down.clock.now += 10
        assert [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()] == [
            mock.ANY
        ]
        assert down.get("k") == "value"
        assert down.get("k") == "value"
        assert down.get("k") is None
        down.clock.now += 10
        assert down.get("k") is None
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "unreachable" in m]) == 2  # two outages
    assert len([m for m in messages if "reachable again" in m]) == 1
    assert down.outages == 2


def test_the_caches_are_configured_with_short_timeouts(settings):
    assert settings.REDIS_CACHE_OPTIONS["socket_connect_timeout"] <= 1
    assert settings.REDIS_CACHE_OPTIONS["socket_timeout"] <= 2
    if settings.REDIS_URL:
        for alias in ("default", "pages"):
            assert settings.CACHES[alias]["OPTIONS"] == settings.REDIS_CACHE_OPTIONS


# --- What uses the cache goes on ----------------------------------------------------------------


@pytest.fixture
def default_cache_down(settings):
    """The default cache (throttles, allauth, login limits, sessions) is a RedisCache at a port
    where nothing listens; the sessions are read through it."""
    port = refused_port()
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "peerhub.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield
    redis_cache._breakers.pop(f"redis://127.0.0.1:{port}/0", None)


@pytest.mark.django_db
@pytest.mark.write_limits
def test_the_write_throttles_fail_open(default_cache_down, settings, caplog):
    settings.PEERHUB_WRITE_LIMITS = {
        name: {**rule, "new": 1, "established": 1}
        for name, rule in settings.PEERHUB_WRITE_LIMITS.items()
    }
    member = UserFactory()
    solution = make_solution()
    with caplog.at_level(logging.INFO, logger="peerhub.throttles"):
        for n in range(3):  # over the budget of one: nothing was counted
            write_spend(member, "comment")
            challenge_services.comment_create(author=member, target=solution, body=f"Note {n}")
    assert any("not counted" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.write_limits
def test_a_member_logs_in_stays_in_writes_and_logs_out_during_an_outage(
    default_cache_down, client, settings
):
    settings.ACCOUNT_RATE_LIMITS_ENABLED = True
    member = UserFactory(username="alice", email="alice@example.org")
    response = client.post(
        reverse("account_login"), {"login": "alice", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert response.status_code == 302, response.content[:500]
    home = client.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.user == member  # the session came from the database
    challenge = ChallengeFactory()
    assert client.get(challenge.get_absolute_url()).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert not client.get("/").wsgi_request.user.is_authenticated


# --- The page cache after an outage -------------------------------------------------------------


class Flaky(LocMemCache):
    """A pages cache that can be unreachable: misses and failed writes, as RedisCache answers,
    and an outage count; `down = False` brings it back with every key it had."""

    def __init__(self, *, counts_outages: bool = True):
        super().__init__("flaky-pages", {})
        self.down = False
        if counts_outages:
            self.outages = 0

    def fail(self) -> None:
        self.down = True
        if hasattr(self, "outages"):
            self.outages += 1

    def get(self, key, default=None, version=None):
        return default if self.down else super().get(key, default, version)

    def get_many(self, keys, version=None):
        return {} if self.down else super().get_many(keys, version)

    def add(self, key, value, timeout=300, version=None):
        return False if self.down else super().add(key, value, timeout, version)

    def set(self, key, value, timeout=300, version=None):
        return None if self.down else super().set(key, value, timeout, version)

    def set_many(self, data, timeout=300, version=None):
        return list(data) if self.down else super().set_many(data, timeout, version)


@pytest.fixture
def flaky_pages(request, settings, monkeypatch):
    settings.PEERHUB_PAGE_CACHE = True
    pages = Flaky(counts_outages=getattr(request, "param", True))
    pages.clear()
    monkeypatch.setattr(pagecache, "_cache", lambda: pages)
    pagecache._local.clear()
    pagecache._generation.reset()
    yield pages
    pagecache._local.clear()
    pagecache._generation.reset()


def state(response):
    return response.headers.get("X-Page-Cache")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "flaky_pages", [True, False], ids=["outage-seen", "bump-failed-only"], indirect=True
)
def test_a_bump_lost_in_an_outage_is_a_miss_once_the_cache_is_back(client, flaky_pages):
    solution = make_solution()
    url = solution.challenge.get_absolute_url()
    assert client.get(url).status_code == 200
    assert state(client.get(url)) == "hit"

    flaky_pages.fail()
    challenge_services.comment_create(
        author=UserFactory(), target=solution.challenge, body="Written during the outage"
    )
    during = client.get(url)
    assert during.status_code == 200
    assert state(during) is None  # rendered fresh, neither read nor stored
    assert "Written during the outage" in during.content.decode()
    assert pagecache._generation.dirty

    flaky_pages.down = False  # back, with the page and the versions it had before
    after = client.get(url)
    assert state(after) == "miss"
    assert "Written during the outage" in after.content.decode()
    assert state(client.get(url)) == "hit"
    assert not pagecache._generation.dirty


@pytest.mark.django_db
def test_a_process_that_saw_an_outage_forgets_its_local_pages(client, flaky_pages):
    """Another process's bump may have been lost: a process that saw the cache fail takes a
    new generation too, and its process-local pages go with the old one."""
    url = ChallengeFactory().get_absolute_url()
    client.get(url)
    assert state(client.get(url)) == "hit"
    before = set(pagecache._local.entries)
    assert before
    flaky_pages.fail()
    assert state(client.get(url)) is None
    flaky_pages.down = False
    assert state(client.get(url)) == "miss"
    assert not before & set(pagecache._local.entries)
