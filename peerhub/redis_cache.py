"""Django's Redis cache with one client per connection pool (settings: CACHES, with Redis)."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with a reused client."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient
