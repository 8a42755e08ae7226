"""
The sign-in throttle against a live server (issue 8, item 5): 50 parallel sign-in attempts from
one address admit no more than the limit, and with its store down the throttle fails closed
(every attempt refused with a 503 or 429), while catalog reads fail open.

The store is the real one: the Redis of ``REDIS_URL``, a Redis address where nothing listens
(``127.0.0.1:1``) for the outage, and the local-memory cache of the embedded default.
"""

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import caches
from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer
from rest_framework.throttling import SimpleRateThrottle

from tests.catalog.factories import sellable_product

LIMIT = 10
ATTEMPTS = 50
REFUSED = (429, 503)
DEAD_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "KEY_PREFIX": "shop-test",
    "OPTIONS": {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "SOCKET_CONNECT_TIMEOUT": 0.5,
        "SOCKET_TIMEOUT": 0.5,
        "IGNORE_EXCEPTIONS": True,  # as the shop's settings: the cache itself fails open
    },
}
LOCAL_MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-test"}

pytestmark = [pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]


class _WideBacklogServer(ThreadedWSGIServer):
    """Django's threaded test server with room for every attempt in its listen backlog (not 10)."""

    request_queue_size = 128


@pytest.fixture
def server(transactional_db):
    """A live server on a port the system picks, which accepts ``ATTEMPTS`` connections at once."""
    live = LiveServer("127.0.0.1:0", start=False)
    live.thread.server_class = _WideBacklogServer
    live._live_server_modified_settings.enable()
    live.start()
    yield live
    live.stop()
    live._live_server_modified_settings.disable()


@pytest.fixture
def rates(monkeypatch):
    """Production-like rates: sign-in ``LIMIT``/min, anonymous reads 2/min."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"auth": f"{LIMIT}/min", "anon": "2/min", "user": "2/min"}
    )


def post(url: str, body: dict) -> tuple[int, dict, str]:
    request = urllib.request.Request(  # noqa: S310 (the live server's http:// URL)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def parallel_sign_ins(server, attempts: int = ATTEMPTS) -> list[tuple[int, dict, str]]:
    """``attempts`` sign-ins with wrong passwords, released at once from as many threads."""
    start = threading.Barrier(attempts, timeout=60)
    url = f"{server.url}/api/v1/auth/token/"

    def attempt(index: int):
        body = {"email": f"guess-{index}@example.com", "password": "wrong-password"}
        start.wait()
        return post(url, body)

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


def admitted(answers) -> int:
    return sum(status not in REFUSED for status, _, _ in answers)


@pytest.mark.redis
def test_parallel_sign_ins_admit_no_more_than_the_limit_on_redis(server, rates):
    answers = parallel_sign_ins(server)

    statuses = Counter(status for status, _, _ in answers)
    print(f"Redis: {admitted(answers)} of {ATTEMPTS} parallel sign-ins admitted (limit {LIMIT}): {statuses}")
    assert admitted(answers) <= LIMIT
    assert set(statuses) <= {401, 429}
    assert statuses[401] == LIMIT  # atomic, and not stricter than the limit either


def test_parallel_sign_ins_admit_no_more_than_the_limit_on_the_local_memory_cache(server, rates, settings):
    settings.CACHES = {"default": LOCAL_MEMORY}
    caches["default"].clear()

    answers = parallel_sign_ins(server)

    statuses = Counter(status for status, _, _ in answers)
    print(f"locmem: {admitted(answers)} of {ATTEMPTS} parallel sign-ins admitted (limit {LIMIT}): {statuses}")
    assert admitted(answers) <= LIMIT
    assert statuses[401] == LIMIT


def test_with_the_store_down_every_sign_in_and_registration_is_refused(server, rates, settings):
    settings.CACHES = {"default": DEAD_REDIS}

    answers = parallel_sign_ins(server)
    registration = post(
        f"{server.url}/api/v1/auth/register/",
        {"email": "ada@example.com", "password": "correct-horse-battery-staple"},
    )

    statuses = Counter(status for status, _, _ in answers)
    print(f"store down: {admitted(answers)} of {ATTEMPTS} parallel sign-ins admitted: {statuses}")
    assert admitted(answers) == 0
    for status, headers, body in [*answers, registration]:
        assert status == 503
        assert headers["Content-Type"] == "application/problem+json"
        assert json.loads(body)["code"] == "service_unavailable"
        assert int(headers["Retry-After"]) > 0


def test_with_the_store_down_catalog_reads_still_answer(server, rates, settings):
    product = sellable_product(name="Sturdy Mug")
    settings.CACHES = {"default": DEAD_REDIS}

    # More reads than the anonymous rate allows: the catalog's throttles fail open.
    for _ in range(4):
        with urllib.request.urlopen(f"{server.url}/api/v1/catalog/products/", timeout=30) as response:  # noqa: S310
            assert response.status == 200
    with urllib.request.urlopen(  # noqa: S310
        f"{server.url}/api/v1/catalog/products/{product.slug}/", timeout=30
    ) as response:
        assert response.status == 200
        assert json.loads(response.read())["name"] == "Sturdy Mug"
