"""
Counting what one request costs: SQL statements and cache round trips (never durations).

``measure()`` is a context manager around one request made with DRF's ``APIClient`` (in process,
on the test's thread, so the request uses the test's connection and cache objects). It counts:

- ``sql``: every statement Django runs on the default connection (``CaptureQueriesContext``),
  nothing excluded; statements sent together in one round trip (``shop.kernel.db.run_together``,
  on PostgreSQL) are one text and count once, so the figure is the round trips. ``savepoints``
  says how many of them are ``SAVEPOINT``/``RELEASE SAVEPOINT``/``ROLLBACK TO SAVEPOINT`` (inside
  a test's outer transaction each ``atomic`` block is a savepoint; in production the outermost
  one is ``BEGIN``/``COMMIT`` instead, as many).
- ``cache_calls``: per cache alias, the calls that reach the backend's public methods (``get``,
  ``set``, ``add``, ``incr``, ``delete_many``, ...: every method of Django's cache API and
  django-redis's additions). A method the backend implements with its own public methods (the
  file-based cache's ``add`` calls ``has_key`` and ``set``) counts once: only the outermost call.
- ``redis_cache``: Redis round trips on the cache's own connection pools, counted in redis-py
  (``Redis.execute_command``; a pipeline's ``execute`` is one round trip): what django-redis sends
  and what goes past it on the raw client (the throttle's Lua script, ``EVALSHA``).
- ``redis_other``: Redis round trips on any other pool (Celery's broker, through kombu), reported
  apart: they are not cache round trips.

``cache_round_trips`` is the figure budgets are stated in: with Redis, the Redis round trips of
the cache (``redis_cache``); without it, the backend calls of every alias (the file-based
``default`` and the local-memory ``throttle``), since there a call is a file or a lock, not a
message. ``transaction.on_commit`` callbacks registered during the request run inside the
measurement, as they would after the request's commit (the test's outer transaction never
commits): the catalog's cache invalidations, the outbox relay's trigger.
"""

import contextlib
import dataclasses
import functools
import re

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

# Every method of Django's cache API (BaseCache) and django-redis's RedisCache that may reach the
# store; the async twins (a*) call these in Django's base class.
CACHE_METHODS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "get_or_set",
    "has_key",
    "incr",
    "decr",
    "set_many",
    "delete_many",
    "clear",
    "incr_version",
    "decr_version",
    # django-redis
    "delete_pattern",
    "keys",
    "iter_keys",
    "ttl",
    "pttl",
    "expire",
    "expire_at",
    "pexpire",
    "pexpire_at",
    "persist",
    "lock",
    "sadd",
    "scard",
    "smembers",
    "srem",
    "hset",
    "hget",
    "hdel",
    "hlen",
    "hkeys",
    "hexists",
)
_SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)


@dataclasses.dataclass
class Counts:
    sql: int = 0
    savepoints: int = 0
    cache_calls: dict[str, int] = dataclasses.field(default_factory=dict)
    cache_methods: dict[str, int] = dataclasses.field(default_factory=dict)
    redis_cache: int = 0
    redis_other: int = 0
    redis_commands: list[str] = dataclasses.field(default_factory=list)
    redis_other_commands: list[str] = dataclasses.field(default_factory=list)
    statements: list[str] = dataclasses.field(default_factory=list)

    @property
    def cache_round_trips(self) -> int:
        return self.redis_cache if settings.REDIS_URL else sum(self.cache_calls.values())

    @property
    def pair(self) -> tuple[int, int]:
        """(SQL statements, cache round trips): what the budgets state."""
        return self.sql, self.cache_round_trips

    @property
    def triple(self) -> tuple[int, int, int]:
        """(SQL statements, cache round trips, other Redis round trips): what must not grow."""
        return self.sql, self.cache_round_trips, self.redis_other

    def describe(self) -> str:
        lines = [
            f"SQL {self.sql} (of which {self.savepoints} savepoint statements), cache round trips "
            f"{self.cache_round_trips}; backend calls {self.cache_methods}; Redis on the cache "
            f"{self.redis_cache} {self.redis_commands}; "
            f"other Redis {self.redis_other} {self.redis_other_commands}"
        ]
        lines += [f"  {index + 1}. {sql[:200]}" for index, sql in enumerate(self.statements)]
        return "\n".join(lines)


def _cache_pools() -> set[int]:
    """The ids of the connection pools django-redis uses for the configured caches."""
    pools = set()
    for alias in settings.CACHES:
        client = getattr(caches[alias], "client", None)
        if client is not None and hasattr(client, "get_client"):
            for write in (True, False):
                pools.add(id(client.get_client(write=write).connection_pool))  # no I/O: lazy connect
    return pools


@contextlib.contextmanager
def _counting_backend_calls(counts: Counts):
    patched = []
    for alias in settings.CACHES:
        backend = caches[alias]
        depth = [0]
        for name in CACHE_METHODS:
            original = getattr(backend, name, None)
            if original is None or not callable(original):
                continue

            @functools.wraps(original)
            def counted(*args, __original=original, __alias=alias, __name=name, __depth=depth, **kwargs):
                if __depth[0] == 0:
                    counts.cache_calls[__alias] = counts.cache_calls.get(__alias, 0) + 1
                    label = f"{__alias}.{__name}"
                    counts.cache_methods[label] = counts.cache_methods.get(label, 0) + 1
                __depth[0] += 1
                try:
                    return __original(*args, **kwargs)
                finally:
                    __depth[0] -= 1

            setattr(backend, name, counted)  # an instance attribute, over the class's method
            patched.append((backend, name))
    try:
        yield
    finally:
        for backend, name in patched:
            delattr(backend, name)


@contextlib.contextmanager
def _counting_redis(counts: Counts):
    try:
        import redis.client
    except ImportError:  # no redis-py: nothing can talk to Redis
        yield
        return
    pools = _cache_pools()

    def note(client, command: str) -> None:
        if id(client.connection_pool) in pools:
            counts.redis_cache += 1
            counts.redis_commands.append(command)
        else:
            counts.redis_other += 1
            counts.redis_other_commands.append(command)

    redis_execute = redis.client.Redis.execute_command
    pipeline_execute = redis.client.Pipeline.execute
    pipeline_immediate = redis.client.Pipeline.immediate_execute_command

    def execute_command(self, *args, **options):
        note(self, str(args[0]) if args else "?")
        return redis_execute(self, *args, **options)

    def execute(self, *args, **kwargs):
        if self.command_stack:  # an empty pipeline sends nothing
            note(self, "PIPELINE(" + ",".join(str(c[0][0]) for c in self.command_stack) + ")")
        return pipeline_execute(self, *args, **kwargs)

    def immediate_execute_command(self, *args, **options):
        note(self, str(args[0]) if args else "?")
        return pipeline_immediate(self, *args, **options)

    redis.client.Redis.execute_command = execute_command
    redis.client.Pipeline.execute = execute
    redis.client.Pipeline.immediate_execute_command = immediate_execute_command
    try:
        yield
    finally:
        redis.client.Redis.execute_command = redis_execute
        redis.client.Pipeline.execute = pipeline_execute
        redis.client.Pipeline.immediate_execute_command = pipeline_immediate


@contextlib.contextmanager
def measure():
    """Count the SQL statements and cache round trips of what runs inside (one request)."""
    counts = Counts()
    # The test's outer transaction still holds the callbacks of what ran before (set-up, earlier
    # requests); the outbox registers its relay trigger once per transaction, so a request would
    # find it there and register none. It starts with none, as in its own transaction.
    earlier, connection.run_on_commit = connection.run_on_commit, []
    try:
        with (
            CaptureQueriesContext(connection) as queries,
            _counting_backend_calls(counts),
            _counting_redis(counts),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            yield counts
    finally:
        connection.run_on_commit = earlier  # the request's callbacks ran (as on its commit)
    counts.statements = [query["sql"] for query in queries.captured_queries]
    counts.sql = len(counts.statements)
    counts.savepoints = sum(1 for sql in counts.statements if _SAVEPOINT.match(sql))
