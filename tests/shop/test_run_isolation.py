"""
A test run keeps to itself in a Redis it shares with a development stack: its Celery queues and
keys are under the run's prefix (``shop.settings.test``), and at its end it deletes them and its
temporary ``VAR_DIR`` (``tests/conftest.py``).
"""

import os
import subprocess
import sys
from pathlib import Path

import kombu
import pytest

from shop.celery import app as celery_app
from tests.kernel.brokers import BrokerQueue, broker_at
from tests.run_state import celery_queue_key, run_prefix

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis  # without REDIS_URL the run's broker is in files under its own VAR_DIR
@pytest.mark.timeout(60)
def test_a_development_worker_on_the_same_redis_never_sees_a_test_task(own_redis, settings):
    settings.CELERY_BROKER_URL = own_redis.url  # the queue helper's broker
    with broker_at(own_redis.url):
        celery_app.send_task("shop.kernel.relay_outbox")  # routed to the queue "default"
        assert len(BrokerQueue("default")) == 1  # the tests' helpers see it

    raw = own_redis.client()
    assert raw.llen(celery_queue_key("default")) == 1
    assert raw.llen("default") == 0
    assert all(key.decode().startswith(run_prefix()) for key in raw.keys("*"))
    # What a worker of the development stack reads: the queue "default", without the test prefix.
    with kombu.Connection(own_redis.url) as connection:
        queue = connection.SimpleQueue("default")
        try:
            with pytest.raises(queue.Empty):
                queue.get(block=False)
        finally:
            queue.close()
    with broker_at(own_redis.url):
        assert BrokerQueue("default").purge() == 1


@pytest.mark.timeout(240)
def test_a_test_run_leaves_no_key_in_redis_and_no_var_dir(own_redis, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "TMPDIR": str(temporary),  # where the run makes its VAR_DIR
        "REDIS_URL": own_redis.url,  # cache and broker; the database: SQLite in memory
    }

    result = subprocess.run(
        # Tests that send messages to a queue of their own in Redis, and use the cache.
        [sys.executable, "-m", "pytest", "tests/kernel/test_outbox_relay.py", "-p", "no:cacheprovider", "-q",
         "-k", "batch_at_a_time or only_looked_at_again"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=200,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert own_redis.client().keys("*") == []
    assert list(temporary.glob("shop-test-var-*")) == []
