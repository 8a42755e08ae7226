"""
Rate throttles that count atomically in the shared cache, with a choice of failing open or closed.

DRF's ``SimpleRateThrottle`` keeps a client's history as a list of timestamps that every request
reads and writes back whole. Parallel requests all read the same list, so all of them are admitted
(50 of 50 parallel sign-ins against a limit of 10 on Redis), the list grows with the rate, and with
django-redis ignoring connection errors a cache that is down admits everything.

``RateThrottle`` keeps two counters per client instead, for the current and the previous fixed
window of the rate's period, and admits a request while ``previous * (the share of the previous
window still inside the last period) + current`` stays under the limit (the sliding-window
counter: no burst of twice the limit at a window boundary, two integers per client whatever the
rate). The check and the count are one atomic step: a Lua script on Redis (django-redis; the
script goes through the raw client, so a connection error is seen rather than ignored), and on
other caches ``add`` + ``incr`` (atomic in Django's local-memory cache and in memcached), taken
back with ``decr`` when the request is refused. Refused requests are not counted, as in DRF. Windows are
aligned to the epoch, so the web processes agree on them as far as their clocks agree.

The counters live in the cache alias ``throttle`` where the settings define one, else in
``default``. The embedded defaults (no Redis) define it as a local-memory cache, because their
``default`` is the file-based cache every process shares, whose ``incr`` is a read and a write:
there each web process counts on its own (exact under ``runserver``, one process).

``fail_closed`` says what a store that does not answer means. A throttle that fails open admits
(catalog and other reads: slower is fine, broken is not); one that fails closed refuses with a
503 ``service_unavailable`` and ``Retry-After`` (sign-in: an outage must not lift the limit on
password guessing). Either way the error is logged.

The DRF interface is kept (``allow_request``, ``wait``, ``scope``, ``get_cache_key``, the
``DEFAULT_THROTTLE_RATES`` and ``NUM_PROXIES`` settings), so views name these classes in
``throttle_classes`` as they would DRF's.

A view that reads known keys of the ``default`` cache (the catalog's rendered pages) may name them
in ``throttle_prefetch(request)``: on Redis, where the counters live in that cache, the script that
counts an admitted request also returns those entries, found by the view in
``request.prefetched_cache``: a cached read is one round trip, not two.
"""

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework import throttling

logger = logging.getLogger(__name__)

# KEYS: the current window's counter, the previous window's, then the cache entries to prefetch.
# ARGV: the limit, the weight of the previous window (0..1], the counters' lifetime in seconds.
# Returns {admitted, current, previous, entry...} with ``current`` after the request was counted
# (if it was) and, when admitted, each prefetched entry (false, a nil reply, where there is none).
_ADMIT_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[2]) + current + 1 > tonumber(ARGV[1]) then
    return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local found = {1, current, previous}
for index = 3, #KEYS do
    found[#found + 1] = redis.call('GET', KEYS[index]) or false
end
return found
"""


def _admit_on_redis(cache, keys, limit, weight, ttl, prefetch=()):
    client = cache.client.get_client(write=True)
    script = getattr(client, "_shop_admit_script", None)
    if script is None:  # one per client: EVALSHA of a hash computed once, EVAL only after a flush
        script = client._shop_admit_script = client.register_script(_ADMIT_SCRIPT)
    admitted, current, previous, *entries = script(
        keys=[cache.make_key(key) for key in (*keys, *prefetch)], args=[limit, weight, ttl]
    )
    pairs = zip(prefetch, entries, strict=False)  # a refused request brings no entries
    found = {key: cache.client.decode(raw) for key, raw in pairs if raw is not None}
    return bool(admitted), int(current), int(previous), found


def _admit_on_any_cache(cache, keys, limit, weight, ttl, prefetch=()):
    current_key, previous_key = keys
    cache.add(current_key, 0, ttl)
    try:
        current = cache.incr(current_key)
    except ValueError:  # the counter was evicted between add and incr
        cache.add(current_key, 0, ttl)
        current = cache.incr(current_key)
    previous = cache.get(previous_key) or 0
    if previous * weight + current > limit:
        cache.decr(current_key)
        return False, current - 1, previous, {}
    return True, current, previous, {}  # the counters' cache is not the entries' here: no prefetch


class RateThrottle(throttling.SimpleRateThrottle):
    """
    A ``SimpleRateThrottle`` that counts atomically (sliding-window counter) in the cache
    ``cache_alias`` (None: ``throttle`` if the settings define it, else ``default``). Subclasses
    set ``scope`` (or ``rate``) and ``get_cache_key`` as with DRF, and ``fail_closed = True``
    where an unavailable store must refuse rather than admit.
    """

    cache_alias = None
    fail_closed = False
    # Retry-After of the 503 when the store is down and the throttle fails closed.
    unavailable_retry_after = 5

    def allow_request(self, request, view):
        if self.rate is None or self.scope in getattr(request, "counted_scopes", ()):
            return True  # no limit, or counted already (the catalog's fast path, before DRF)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        prefetch = self._prefetch(request, view) if self.prefetches else ()
        admitted, found = self.count(key, prefetch)
        if prefetch and admitted:
            request.prefetched_cache = found
        return admitted

    @property
    def cache(self):
        """The cache the counters live in: ``cache_alias``, else ``throttle`` if defined, else ``default``."""
        return caches[self.cache_alias or ("throttle" if "throttle" in settings.CACHES else "default")]

    @property
    def prefetches(self) -> bool:
        """Whether ``count`` can fetch ``default`` cache entries with the count (Redis, one cache)."""
        cache = self.cache
        return cache is caches["default"] and hasattr(getattr(cache, "client", None), "get_client")

    def count(self, key: str, prefetch=()) -> tuple[bool, dict]:
        """
        Admit and count one request of the client ``key``, or refuse it, in one atomic step; with
        ``prefetch`` (keys of the ``default`` cache, only where ``prefetches``) the same round trip
        returns those entries of an admitted request. A store that does not answer admits (fails
        open) or raises ``ServiceUnavailable`` (``fail_closed``).
        """
        self.key = key
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.elapsed = self.now - window * self.duration
        weight = 1.0 - self.elapsed / self.duration
        keys = (f"{key}:{window}", f"{key}:{window - 1}")
        cache = self.cache
        on_redis = hasattr(getattr(cache, "client", None), "get_client")
        admit = _admit_on_redis if on_redis else _admit_on_any_cache
        try:
            admitted, self.current, self.previous, found = admit(
                cache, keys, self.num_requests, weight, 2 * self.duration, prefetch
            )
        except Exception as exc:  # noqa: BLE001 (whatever the store raised, it is not answering)
            if self.fail_closed:
                # Not at the top: DRF's APIView imports the throttle classes, and problems imports APIView.
                from shop.kernel.http.problems import ServiceUnavailable

                logger.error("Throttle %r: its store is unavailable (%s); refusing", self.scope, exc)
                unavailable = ServiceUnavailable(
                    "The rate limit cannot be checked at the moment; try again shortly."
                )
                unavailable.wait = self.unavailable_retry_after  # DRF turns it into Retry-After
                raise unavailable from None
            logger.warning("Throttle %r: its store is unavailable (%s); admitting", self.scope, exc)
            return True, {}
        return admitted, found

    @staticmethod
    def _prefetch(request, view) -> tuple[str, ...]:
        """
        The ``default`` cache's keys that ``view`` will read (its ``throttle_prefetch(request)``),
        fetched by the same script that counts the request: a cached read costs one round trip.
        The view finds them in ``request.prefetched_cache`` (absent: read them as usual).
        """
        keys_of = getattr(view, "throttle_prefetch", None)
        if keys_of is None or hasattr(request, "prefetched_cache"):
            return ()
        return tuple(keys_of(request))

    def wait(self):
        """Seconds until this client's next request would be admitted (``Retry-After``)."""
        limit, period = self.num_requests, self.duration
        room = limit - 1 - self.current  # what the previous window's share must fall to
        if room >= 0 and self.previous > 0:
            # Later in this window, when previous * (1 - t / period) <= room.
            seconds = period * (1 - room / self.previous) - self.elapsed
        elif self.current > 0 and limit > 0:
            # In the next window, where this window's count becomes the fading previous one.
            seconds = period - self.elapsed + period * (1 - (limit - 1) / self.current)
        else:
            seconds = period - self.elapsed
        return max(seconds, 1.0)


class AnonRateThrottle(RateThrottle, throttling.AnonRateThrottle):
    """DRF's ``anon`` rate (anonymous requests, per client address), counted atomically; fails open."""

    def anonymous_key(self, request) -> str:
        """The client's key for a request known to carry no credentials (a plain Django request too)."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(RateThrottle, throttling.UserRateThrottle):
    """
    DRF's ``user`` rate per signed-in customer, counted atomically; fails open. Anonymous requests
    are the ``anon`` rate's alone (DRF's class counts them here too, by address, against a higher
    limit that the ``anon`` one always reaches first: a second round trip that never refused).
    """

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ClientAddressRateThrottle(RateThrottle):
    """The rate of ``scope`` per client address (``NUM_PROXIES`` says which ``X-Forwarded-For`` entry)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
