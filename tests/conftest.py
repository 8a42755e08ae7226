"""
Project-wide test set-up.

Tests that need PostgreSQL or Redis are marked ``postgres`` or ``redis`` and skipped, with the
reason, where the service is not configured. With ``SHOP_TESTS_STRICT=1`` (as in CI) every skip
is turned into a failure, so a run can never pass by skipping.
"""

import os

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection

STRICT = os.environ.get("SHOP_TESTS_STRICT", "") not in ("", "0", "false")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if item.get_closest_marker("redis") and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://..."))


def pytest_sessionfinish(session, exitstatus):
    """
    Leave nothing behind: the run's keys in Redis (the cache's and Celery's, all under the run's
    prefix, ``shop.settings.test``) and the temporary ``VAR_DIR`` the run made.
    """
    from tests.run_state import delete_run_keys, remove_run_var_dir

    delete_run_keys()
    remove_run_var_dir()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"SHOP_TESTS_STRICT: skipping is a failure here ({reason})"


def _clear_caches() -> None:
    for alias in settings.CACHES:
        cache = caches[alias]
        clear = getattr(cache, "delete_pattern", None)
        clear("*") if clear else cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    """
    Each test starts with empty caches (every alias: the throttle's too); on Redis only the
    cache's keys go, not the broker's.
    """
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture
def broker_down():
    """
    The broker is unreachable during the test (the Celery app points at a port where nothing
    listens), or until ``broker_down.restore()``.
    """
    from tests.kernel.brokers import BrokerOutage

    outage = BrokerOutage()
    outage.start()
    try:
        yield outage
    finally:
        outage.restore()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def staff_user(db):
    """A staff user (``is_staff``), as the staff endpoints require."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("staff", "staff@example.com", "pw", is_staff=True)


@pytest.fixture
def staff_client(api_client, staff_user):
    """``api_client`` signed in as ``staff_user``."""
    api_client.force_authenticate(staff_user)
    return api_client


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """
    Start real workers: ``celery_worker(queues=[...], env={...}, include=[...])`` returns a
    ready ``tests.celery_worker.Worker`` (``env`` adds settings by environment variable,
    ``include`` imports test-only task modules; ``pool="prefork", concurrency=2`` as production
    runs it). The queues of the configured broker are purged before the first start and after
    the test; every worker is stopped at the end.
    """
    from tests.celery_worker import Worker
    from tests.kernel.brokers import BrokerQueue

    started: list[Worker] = []
    purged: set[str] = set()

    def start(
        *,
        queues: list[str],
        env: dict[str, str] | None = None,
        include: list[str] | None = None,
        pool: str = "solo",
        concurrency: int | None = None,
    ):
        env = env or {}
        if "CELERY_BROKER_URL" not in env:  # a worker on a broker of its own finds it as it is
            for name in set(queues) - purged:
                BrokerQueue(name).purge()
                purged.add(name)
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        worker = Worker(
            log_path, queues=queues, env=env, include=include or [], pool=pool, concurrency=concurrency
        )
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
        for name in purged:
            BrokerQueue(name).purge()


@pytest.fixture
def celery_beat(transactional_db, tmp_path):
    """
    Start ``celery -A shop beat``: ``celery_beat(env={...})`` returns a started
    ``tests.celery_worker.Beat`` (its schedule file in the test's directory); stopped at the end.
    """
    from tests.celery_worker import Beat

    started: list[Beat] = []

    def start(*, env: dict[str, str] | None = None):
        beat = Beat(tmp_path / f"beat-{len(started) + 1}.log", env=env or {}, schedule_path=tmp_path / "beat")
        started.append(beat)
        return beat.start()

    try:
        yield start
    finally:
        for beat in started:
            beat.stop()


@pytest.fixture
def own_redis(tmp_path):
    """
    A ``redis-server`` of the test's own on a free port (``tests.redis_server.RedisServer``),
    started; the test may kill and restart it. ``own_redis.env`` points a worker at it.
    """
    from tests.redis_server import RedisServer

    if not RedisServer.available():
        pytest.skip("needs the redis-server binary on PATH")
    server = RedisServer(tmp_path).start()
    server.env = {"REDIS_URL": server.url, "CELERY_BROKER_URL": server.url}
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def scrape(settings):
    """
    ``scrape()``: ``/metrics`` read now (a ``tests.metrics_support.Scrape``), as Prometheus reads
    it: the sum over every process writing to this run's metrics folder, with its bearer token.
    """
    from django.test import Client

    from tests.metrics_support import Scrape

    settings.METRICS_TOKEN = "test-metrics-token"
    client = Client()
    return lambda: Scrape.of(client, HTTP_AUTHORIZATION="Bearer test-metrics-token")


@pytest.fixture
def erp_simulator(settings):
    """An ERP simulator on a free port for this test, with ``ERP_URL`` pointing at it."""
    from integrations import erp_simulator as simulator
    from tests.integrations.conftest import SimulatorClient

    server = simulator.start_in_thread()
    settings.ERP_URL = server.url
    try:
        yield SimulatorClient(server)
    finally:
        server.shutdown()
        server.server_close()
