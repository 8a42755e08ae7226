"""
Project-wide test set-up.

Tests that need PostgreSQL or Redis are marked ``postgres`` or ``redis`` and skipped, with the
reason, where the service is not configured. With ``SHOP_TESTS_STRICT=1`` (as in CI) every skip
is turned into a failure, so a run can never pass by skipping.
"""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

STRICT = os.environ.get("SHOP_TESTS_STRICT", "") not in ("", "0", "false")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if item.get_closest_marker("redis") and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://..."))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"SHOP_TESTS_STRICT: skipping is a failure here ({reason})"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache; on Redis only the cache's keys go, not the broker's."""
    clear = getattr(cache, "delete_pattern", None)
    clear("*") if clear else cache.clear()
    yield
    clear("*") if clear else cache.clear()


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
def private_redis():
    """A Redis server of this test's own (``tests.kernel.brokers.RedisServer``), started; killed after."""
    from tests.kernel.brokers import RedisServer

    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """
    Start real workers: ``celery_worker(queues=[...], env={...}, include=[...])`` returns a
    ready ``tests.celery_worker.Worker`` (``env`` adds settings by environment variable,
    ``include`` imports test-only task modules). The queues are purged before the first start
    and after the test; every worker is stopped at the end.
    """
    from tests.celery_worker import Worker
    from tests.kernel.brokers import BrokerQueue

    started: list[Worker] = []
    purged: set[str] = set()

    def start(*, queues: list[str], env: dict[str, str] | None = None, include: list[str] | None = None):
        for name in set(queues) - purged:
            BrokerQueue(name).purge()
            purged.add(name)
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        worker = Worker(log_path, queues=queues, env=env or {}, include=include or [])
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
        for name in purged:
            BrokerQueue(name).purge()
