"""
A real Celery worker for end-to-end tests: ``celery -A shop worker`` as a subprocess on the test
database and the configured broker, its output in a log file. The ``celery_worker`` fixture in
``tests/conftest.py`` starts and stops them.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

from django.conf import settings
from django.db import connection

READY_SECONDS = 60


def wait_for(condition, *, seconds: float, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it is true or ``seconds`` have passed; return its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def json_records(text: str) -> list[dict]:
    """The JSON log records of ``text``, a process's output (other lines, such as warnings, skipped)."""
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


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
    """
    A ``celery -A shop worker`` subprocess on the test database: the solo pool, or ``pool="prefork"``
    with ``concurrency`` processes as production runs it.
    """

    def __init__(
        self,
        log_path,
        *,
        queues: list[str],
        env: dict[str, str],
        include: list[str],
        pool: str = "solo",
        concurrency: int | None = None,
    ):
        self.log_path = log_path
        self.queues = queues
        self.env = env
        self.include = include
        self.pool = pool
        self.concurrency = concurrency
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VAR_DIR": str(settings.VAR_DIR),  # the same media root as the test process
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }

    def start(self) -> "Worker":
        env = self.environment()
        command = [
            sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", self.pool,
            "--queues", ",".join(self.queues), "--hostname", self.name,
            "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]  # fmt: skip
        if self.include:
            command += ["--include", ",".join(self.include)]
        if self.concurrency:
            command += ["--concurrency", str(self.concurrency)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        assert wait_for(self.is_ready, seconds=READY_SECONDS, interval=0.2), f"not ready:\n{self.log()}"
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def records(self) -> list[dict]:
        """The worker's log records (JSON lines, ``LOG_FORMAT=json`` as in production), in order."""
        return json_records(self.log())

    def is_ready(self) -> bool:
        assert self.process.poll() is None, f"the worker exited:\n{self.log()}"
        return " ready." in self.log()

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

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


class Beat:
    """``celery -A shop beat`` as a subprocess on the test database, its schedule file its own."""

    def __init__(self, log_path, *, env: dict[str, str], schedule_path):
        self.log_path = log_path
        self.env = env
        self.schedule_path = schedule_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "Beat":
        env = Worker(self.log_path, queues=[], env=self.env, include=[]).environment()
        command = [
            sys.executable, "-m", "celery", "-A", "shop", "beat", "--loglevel", "INFO",
            "--schedule", str(self.schedule_path),
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        assert wait_for(self.is_started, seconds=READY_SECONDS, interval=0.2), f"not started:\n{self.log()}"
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def is_started(self) -> bool:
        assert self.process.poll() is None, f"beat exited:\n{self.log()}"
        return "beat: Starting..." in self.log()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
