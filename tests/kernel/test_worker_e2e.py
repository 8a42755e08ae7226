"""
End to end: a real Celery worker, the real Redis broker and the test's PostgreSQL database.

The path under test is the production one: a committed transaction publishes an event, its
on-commit trigger sends ``shop.kernel.relay_outbox`` to the ``default`` queue, the worker relays
the outbox (sending the subscriber's task to its own queue), and the worker then runs the
subscriber, whose inbox row shows it ran. The test process only publishes and watches the
database.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from shop.celery import app as celery_app
from shop.kernel.events import publish
from shop.kernel.models import OutboxMessage, ProcessedEvent
from tests.kernel import subscriber_tasks
from tests.kernel.brokers import BrokerQueue
from tests.kernel.subscriber_tasks import CONSUMER, OutboxProbe

RELAY_QUEUE = celery_app.conf.task_default_queue  # where shop.kernel.relay_outbox is routed
READY_WAIT_SECONDS = 60
DELIVERY_WAIT_SECONDS = 30


def _test_database_url() -> str:
    """The URL of the database this test runs against (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}{port}/{quote(db['NAME'], safe='')}"


def _wait_for(condition, *, seconds: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Worker:
    """A ``celery -A shop worker`` subprocess, its output in a log file."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.name = f"kernel-e2e-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings.test",
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "shop",
            "worker",
            "--pool",
            "solo",
            "--queues",
            f"{RELAY_QUEUE},{subscriber_tasks.QUEUE}",
            "--include",
            subscriber_tasks.__name__,
            "--hostname",
            self.name,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def is_ready(self) -> bool:
        assert self.process.poll() is None, f"the worker exited:\n{self.log()}"
        return " ready." in self.log()

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
def worker(transactional_db, tmp_path):
    """A ready worker consuming the relay's queue and the test subscriber's queue, both emptied."""
    for name in (RELAY_QUEUE, subscriber_tasks.QUEUE):
        BrokerQueue(name).purge()  # messages left by earlier runs
    worker = Worker(tmp_path / "worker.log")
    worker.start()
    try:
        assert _wait_for(worker.is_ready, seconds=READY_WAIT_SECONDS), f"worker not ready:\n{worker.log()}"
        yield worker
    finally:
        worker.stop()
        BrokerQueue(subscriber_tasks.QUEUE).purge()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_a_committed_event_reaches_its_subscriber_through_a_real_worker(worker):
    with transaction.atomic():
        publish(OutboxProbe(label="end to end", tags=["worker"]))
    row = OutboxMessage.objects.get()
    # From here on the test only watches: the on-commit trigger and the worker do the rest.

    def handled() -> bool:
        return ProcessedEvent.objects.filter(event_id=row.event_id, consumer=CONSUMER).exists()

    assert _wait_for(handled, seconds=DELIVERY_WAIT_SECONDS), f"not handled; worker log:\n{worker.log()}"

    assert ProcessedEvent.objects.filter(event_id=row.event_id).count() == 1
    assert ProcessedEvent.objects.get(event_id=row.event_id).consumer == CONSUMER
    row.refresh_from_db()
    assert row.sent_at is not None
    # The worker relayed it (the on-commit trigger's task sent one row) and ran the subscriber.
    log = worker.log()
    assert re.search(r"Task shop\.kernel\.relay_outbox\[[^\]]+\] succeeded in \S+: 1$", log, re.M), log
    assert re.search(rf"Task {re.escape(CONSUMER)}\[[^\]]+\] succeeded in \S+: True$", log, re.M), log
