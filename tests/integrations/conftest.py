"""
Shared fixtures of the integrations tests: the ERP simulator over real HTTP on a free port, and
real Celery workers (subprocesses on the test database and the configured broker).
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from integrations import erp_simulator as simulator
from tests.kernel.brokers import BrokerQueue

WORKER_READY_SECONDS = 60


def wait_for(condition, *, seconds: float, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it is true or ``seconds`` have passed; return its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


class SimulatorClient:
    """The ERP simulator of a test, and a small HTTP client of its test-facing endpoints."""

    def __init__(self, server: simulator.ErpSimulator):
        self.server = server
        self.url = server.url

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local simulator
            raw = response.read()
        return json.loads(raw) if raw else None

    def orders(self) -> list[dict]:
        return self._call("GET", "/orders")

    def control(self, **values) -> dict:
        return self._call("PUT", "/control", values) if values else self._call("GET", "/control")

    def forget(self) -> None:
        self._call("DELETE", "/orders")


@pytest.fixture
def erp_simulator(settings):
    """An ERP simulator on a free port for this test, with ``ERP_URL`` pointing at it."""
    server = simulator.start_in_thread()
    settings.ERP_URL = server.url
    try:
        yield SimulatorClient(server)
    finally:
        server.shutdown()
        server.server_close()


def test_database_url() -> str:
    """The URL of the database this test runs against (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}{port}/{quote(db['NAME'], safe='')}"


test_database_url.__test__ = False  # a helper, not a test


class Worker:
    """A ``celery -A shop worker`` subprocess (solo pool) on the test database; its log in a file."""

    def __init__(self, log_path, *, queues: list[str], env: dict[str, str]):
        self.log_path = log_path
        self.queues = queues
        self.env = env
        self.name = f"it-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo",
            "--queues", ",".join(self.queues), "--hostname", self.name,
            "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        assert wait_for(self.is_ready, seconds=WORKER_READY_SECONDS, interval=0.2), self.log()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def is_ready(self) -> bool:
        assert self.process.poll() is None, f"the worker exited:\n{self.log()}"
        return " ready." in self.log()

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, mid-task, without acknowledging anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """
    Start real workers: ``celery_worker(queues=[...], env={...})`` returns a ready ``Worker``
    (``env`` adds settings by environment variable, e.g. ``ERP_URL``). The queues are purged
    before the first start and after the test; every worker is stopped at the end.
    """
    started: list[Worker] = []
    purged: set[str] = set()

    def start(*, queues: list[str], env: dict[str, str] | None = None) -> Worker:
        for name in set(queues) - purged:
            BrokerQueue(name).purge()
            purged.add(name)
        worker = Worker(tmp_path / f"worker-{len(started) + 1}.log", queues=queues, env=env or {})
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
        for name in purged:
            BrokerQueue(name).purge()
