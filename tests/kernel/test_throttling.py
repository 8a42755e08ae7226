"""
The kernel's rate throttles (shop/kernel/http/throttling.py): the sliding-window counter and its
``Retry-After`` on a clock the test moves, on Redis and on the local-memory cache, and what a
store that does not answer means with ``fail_closed`` on and off (a real Redis address where
nothing listens; sign-in against a live server: tests/accounts/test_auth_throttle.py).
"""

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from shop.kernel.http.problems import ServiceUnavailable
from shop.kernel.http.throttling import ClientAddressRateThrottle
from tests.accounts.test_auth_throttle import DEAD_REDIS, LOCAL_MEMORY
from tests.embedded import embedded_default_caches

T0 = 60 * 29_000_000  # the start of a minute


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, settings):
    """The store under test: the local-memory cache, or the Redis of ``REDIS_URL``."""
    if request.param == "locmem":
        settings.CACHES = {"default": LOCAL_MEMORY}
        caches["default"].clear()  # the autouse fixture cleared the cache of the settings
    yield request.param
    if request.param == "locmem":
        caches["default"].clear()


def throttle(clock, rate="10/min", fail_closed=False, scope="test"):
    class Throttle(ClientAddressRateThrottle):
        pass

    Throttle.scope, Throttle.rate, Throttle.fail_closed = scope, rate, fail_closed
    instance = Throttle()
    instance.timer = clock
    return instance


def attempts(clock, count, address="10.0.0.1", **kwargs):
    """``count`` requests from ``address`` now: whether each was admitted, and the last throttle."""
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    results = []
    for _ in range(count):
        last = throttle(clock, **kwargs)
        results.append(last.allow_request(request, None))
    return results, last


def test_the_window_slides_and_refused_requests_are_not_counted(store):
    clock = Clock(T0)

    results, last = attempts(clock, 11)
    assert results == [True] * 10 + [False]
    assert last.wait() == pytest.approx(66)  # the next minute, once 10 * (1 - t/60) + 1 <= 10

    clock.now = T0 + 90  # half-way through the next minute: half of the 10 still count
    results, last = attempts(clock, 6)
    assert results == [True] * 5 + [False]  # the refused 11th did not count
    assert last.wait() == pytest.approx(6)  # at 36 s: 10 * 0.4 + 5 + 1 = 10

    clock.now = T0 + 120  # the minute after: the 5 of the minute before, all of them still in range
    assert attempts(clock, 6)[0] == [True] * 5 + [False]

    clock.now = T0 + 240  # after a quiet minute: a full budget
    assert attempts(clock, 11)[0] == [True] * 10 + [False]


def test_clients_and_scopes_have_budgets_of_their_own(store):
    clock = Clock(T0)

    assert attempts(clock, 3, rate="2/min")[0] == [True, True, False]
    assert attempts(clock, 3, rate="2/min", address="10.0.0.2")[0] == [True, True, False]
    assert attempts(clock, 3, rate="2/min", scope="other")[0] == [True, True, False]


def test_fail_closed_refuses_with_503_and_retry_after_when_redis_is_down(settings):
    settings.CACHES = {"default": DEAD_REDIS}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1")

    with pytest.raises(ServiceUnavailable) as refused:
        throttle(Clock(T0), fail_closed=True).allow_request(request, None)

    assert refused.value.status_code == 503
    assert refused.value.wait > 0


def test_fail_open_admits_when_redis_is_down(settings):
    settings.CACHES = {"default": DEAD_REDIS}

    assert attempts(Clock(T0), 20, rate="2/min")[0] == [True] * 20


def test_on_the_embedded_defaults_the_throttle_counts_in_a_local_memory_cache_of_its_own(settings):
    """The shared file-based cache cannot add and incr atomically; the ``throttle`` alias can."""
    settings.CACHES = embedded_default_caches()
    assert settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache")
    caches["default"].clear()
    caches["throttle"].clear()

    assert attempts(Clock(T0), 3, rate="2/min")[0] == [True, True, False]
    assert any(key.startswith(":1:throttle_test_") for key in caches["throttle"]._cache)
    assert not caches["default"]._list_cache_files()
    caches["throttle"].clear()


def test_the_customer_rate_counts_signed_in_customers_only_and_anonymous_requests_the_anon_rate():
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    from shop.kernel.http.throttling import AnonRateThrottle, UserRateThrottle

    class Customer:
        pk = 7
        is_authenticated = True

    anonymous = Request(RequestFactory().get("/", REMOTE_ADDR="10.0.0.9"))
    anonymous.user = AnonymousUser()
    signed_in = Request(RequestFactory().get("/", REMOTE_ADDR="10.0.0.9"))
    signed_in.user = Customer()

    assert UserRateThrottle().get_cache_key(anonymous, None) is None  # no second round trip
    assert AnonRateThrottle().get_cache_key(anonymous, None) is not None
    assert UserRateThrottle().get_cache_key(signed_in, None).endswith("_7")
    assert AnonRateThrottle().get_cache_key(signed_in, None) is None


@pytest.mark.redis
def test_on_redis_an_admitted_request_brings_the_cache_entries_its_view_names():
    from django.core.cache import cache
    from rest_framework.request import Request

    cache.set("prefetch:page", {"rendered": b"{}"})
    cache.set("prefetch:generation", 7)

    class View:
        def throttle_prefetch(self, request):
            return ["prefetch:page", "prefetch:generation", "prefetch:absent"]

    clock = Clock(T0)
    request = Request(RequestFactory().get("/", REMOTE_ADDR="10.0.0.3"))
    assert throttle(clock, rate="1/min").allow_request(request, View())
    assert request.prefetched_cache == {"prefetch:page": {"rendered": b"{}"}, "prefetch:generation": 7}

    refused = Request(RequestFactory().get("/", REMOTE_ADDR="10.0.0.3"))
    assert not throttle(clock, rate="1/min").allow_request(refused, View())
    assert not hasattr(refused, "prefetched_cache")  # nothing fetched for a refused request
