"""
Fixtures for the outbox tests: the test subscriber's queue in the real broker (purged around each
test), and the events the test subscriber handled. A broker that is down: ``broker_down`` in
tests/conftest.py.
"""

import pytest

from tests.kernel import subscriber_tasks
from tests.kernel.brokers import BrokerQueue


@pytest.fixture
def probe_queue():
    """The test subscriber's queue, empty at the start and at the end of the test."""
    queue = BrokerQueue(subscriber_tasks.QUEUE)
    queue.purge()
    yield queue
    queue.purge()


@pytest.fixture
def handled_probes():
    """The events the test subscriber handled in this process."""
    subscriber_tasks.HANDLED.clear()
    subscriber_tasks.REQUEST_IDS.clear()
    yield subscriber_tasks.HANDLED
    subscriber_tasks.HANDLED.clear()
    subscriber_tasks.REQUEST_IDS.clear()
