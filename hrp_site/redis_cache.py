"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's `RedisCacheClient.get_client()` makes a new `redis.Redis` for every cache call, and
redis-py copies its table of about 170 response callbacks into each new one: 0.2 ms a call, and
an API request makes one or two (the throttle's counter, the shared cache's lookup). A redis-py
client holds no connection of its own (it takes one from the pool for each command) and is safe
to share between threads, so one per pool does the same work. Django already keeps a cache
backend, and so its pools, per thread.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
