"""Django's Redis cache with one client per connection pool, which keeps serving when Redis is
down (settings: CACHES, with Redis).

An unreachable or timing-out Redis (redis' ConnectionError and TimeoutError, and their
subclasses; never a data or programming error) degrades every call instead of raising: a read
is a miss (`get` gives the default, `get_many` {}, `has_key` False), a write does nothing and
says so where Django's API answers (`add`, `touch`, `delete` and `clear` False, `set_many` the
keys it did not store), and `incr`/`decr` raise ValueError as for a missing key. The first
failure logs one warning; after it, a circuit breaker skips Redis altogether for
settings.PEERHUB_CACHE_RETRY_SECONDS, so a blackholed Redis costs the socket timeouts (CACHES'
OPTIONS) once per window, not on every call. The first call that reaches Redis again logs that
it is back. The breaker is per process and per server, shared by every cache alias on it."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)

# What an unreachable Redis raises: the rest (a bad command, a pickling error) still raises.
UNAVAILABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


class _ReusedClient(RedisCacheClient):
    """Django builds a new redis.Redis object on every call (about 0.3-1 ms of Python each, and
    a signed-in page makes several: its session, throttles, kept drawings and fragments), so
    reuse one per connection pool: redis.Redis is safe to share between threads, and its pool
    starts afresh in a forked process."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class Breaker:
    """One server's state in this process: whether it is down, until when not to ask it, and
    how many outages began (peerhub.pagecache reads `outages` to learn one happened)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down = False
        self.retry_at = 0.0
        self.outages = 0


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str) -> Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, Breaker())


def _retry_seconds() -> float:
    return float(getattr(settings, "PEERHUB_CACHE_RETRY_SECONDS", 5))


class _Unavailable(Exception):
    """Redis was not asked, or did not answer: the caller answers its fallback."""


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with a reused client, degraded rather than failing when Redis is
    unreachable (see the module's docstring)."""

    # The breaker's clock; a test sets its own on an instance.
    clock = staticmethod(time.monotonic)

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient
        self.breaker = breaker_for(",".join(self._servers))

    @property
    def outages(self) -> int:
        return self.breaker.outages

    def available(self) -> bool:
        """False while the breaker skips Redis (an outage in this process, recently)."""
        breaker = self.breaker
        return not (breaker.down and self.clock() < breaker.retry_at)

    def _call(self, method, *args, **kwargs):
        breaker = self.breaker
        if breaker.down and self.clock() < breaker.retry_at:
            raise _Unavailable
        try:
            result = method(*args, **kwargs)
        except UNAVAILABLE as error:
            with breaker.lock:
                breaker.retry_at = self.clock() + _retry_seconds()
                if not breaker.down:
                    breaker.down = True
                    breaker.outages += 1
                    logger.warning(
                        "Redis at %s is unreachable (%s: %s): the cache answers misses and "
                        "stores nothing; trying again every %s s",
                        self._server_names(),
                        type(error).__name__,
                        error,
                        _retry_seconds(),
                    )
            raise _Unavailable from error
        if breaker.down:
            with breaker.lock:
                if breaker.down:
                    breaker.down = False
                    logger.warning("Redis at %s is reachable again", self._server_names())
        return result

    def _server_names(self) -> str:
        # The address only: a URL's password stays out of the log.
        return ", ".join(s.rsplit("@", 1)[-1] for s in self._servers)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call(super().add, key, value, timeout, version)
        except _Unavailable:
            return False

    def get(self, key, default=None, version=None):
        try:
            return self._call(super().get, key, default, version)
        except _Unavailable:
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call(super().set, key, value, timeout, version)
        except _Unavailable:
            return None

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call(super().touch, key, timeout, version)
        except _Unavailable:
            return False

    def delete(self, key, version=None):
        try:
            return self._call(super().delete, key, version)
        except _Unavailable:
            return False

    def get_many(self, keys, version=None):
        try:
            return self._call(super().get_many, keys, version)
        except _Unavailable:
            return {}

    def has_key(self, key, version=None):
        try:
            return self._call(super().has_key, key, version)
        except _Unavailable:
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return self._call(super().incr, key, delta, version)
        except _Unavailable:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).") from None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call(super().set_many, data, timeout, version)
        except _Unavailable:
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            return self._call(super().delete_many, keys, version)
        except _Unavailable:
            return None

    def clear(self):
        try:
            return self._call(super().clear)
        except _Unavailable:
            return False


def unavailable(cache) -> bool:
    """True when `cache` (a cache or django.core.cache.cache) is a RedisCache whose breaker
    skips Redis now (an outage)."""
    available = getattr(cache, "available", None)
    return available is not None and not available()


@contextmanager
def allauth_cache_lock(cache_key: str) -> Iterator[bool]:
    """allauth's rate-limit lock (allauth.core.internal.ratelimit.cache_lock, which apps.py
    replaces with this), failing open while the cache is unavailable: allauth refuses the
    action when it cannot take the lock, so a Redis outage would refuse every login, sign-up
    and password reset after a second's wait. Otherwise the same loop as allauth's."""
    from allauth.core.internal import ratelimit
    from django.core.cache import cache

    lock_key = f"{cache_key}:lock"
    deadline = time.monotonic() + ratelimit.CACHE_LOCK_WAIT_TIMEOUT
    interval = ratelimit.CACHE_LOCK_RETRY_INTERVAL
    while not cache.add(lock_key, True, timeout=ratelimit.CACHE_LOCK_TIMEOUT):
        if unavailable(cache):
            logger.info("allauth rate limit %s not applied: the cache is unavailable", cache_key)
            yield True
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            yield False
            return
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, ratelimit.CACHE_LOCK_MAX_RETRY_INTERVAL)
    try:
        yield True
    finally:
        cache.delete(lock_key)
