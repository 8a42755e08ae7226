"""
End to end: a real Celery worker, the real Redis broker and the test's PostgreSQL database.

The path under test is the production one: a committed transaction publishes an event, its
on-commit trigger sends ``shop.kernel.relay_outbox`` to the ``default`` queue, the worker relays
the outbox (sending the subscriber's task to its own queue), and the worker then runs the
subscriber, whose inbox row shows it ran. The test process only publishes and watches the
database.
"""

import pytest
from django.db import transaction

from shop.celery import app as celery_app
from shop.kernel import tasks
from shop.kernel.events import publish
from shop.kernel.models import OutboxMessage, ProcessedEvent
from tests.celery_worker import wait_for
from tests.kernel import subscriber_tasks
from tests.kernel.subscriber_tasks import CONSUMER, OutboxProbe

RELAY_QUEUE = celery_app.conf.task_default_queue  # where shop.kernel.relay_outbox is routed
DELIVERY_WAIT_SECONDS = 30


@pytest.fixture
def worker(celery_worker):
    """A ready worker consuming the relay's queue and the test subscriber's queue, both emptied."""
    return celery_worker(queues=[RELAY_QUEUE, subscriber_tasks.QUEUE], include=[subscriber_tasks.__name__])


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

    assert wait_for(handled, seconds=DELIVERY_WAIT_SECONDS), f"not handled; worker log:\n{worker.log()}"

    assert ProcessedEvent.objects.filter(event_id=row.event_id).count() == 1
    assert ProcessedEvent.objects.get(event_id=row.event_id).consumer == CONSUMER
    row.refresh_from_db()
    assert row.sent_at is not None
    # The worker relayed it (the relay's "succeeded" line is housekeeping, at DEBUG: the row's
    # sent_at above) and ran the subscriber.
    succeeded = [
        record["data"]
        for record in worker.records()
        if record["logger"] == "celery.app.trace" and record["message"].startswith(f"Task {CONSUMER}[")
    ]
    assert [data["return_value"] for data in succeeded] == ["True"], worker.log()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_the_events_of_commits_close_together_reach_their_subscriber_in_one_message(worker):
    """
    Commits within the relay's delay (``OUTBOX_RELAY_DELAY_SECONDS``) share one relay, which
    sends the subscriber their events in one message: one task run handles them all.
    """
    for label in ("one", "two", "three"):
        with transaction.atomic():
            publish(OutboxProbe(label=label))
    rows = list(OutboxMessage.objects.order_by("id"))

    def handled() -> bool:
        return ProcessedEvent.objects.filter(consumer=CONSUMER).count() == len(rows)

    assert wait_for(handled, seconds=DELIVERY_WAIT_SECONDS), f"not handled; worker log:\n{worker.log()}"
    assert set(ProcessedEvent.objects.values_list("event_id", flat=True)) == {row.event_id for row in rows}
    succeeded = [
        record["data"]
        for record in worker.records()
        if record["logger"] == "celery.app.trace" and record["message"].startswith(f"Task {CONSUMER}[")
    ]
    assert [data["return_value"] for data in succeeded] == ["[True, True, True]"], worker.log()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_an_event_whose_worker_was_killed_inside_the_handler_is_handled_by_the_next_one(
    celery_worker, settings
):
    """
    The worker dies (SIGKILL) inside the handler: its message stays unacknowledged in Redis for
    the visibility timeout (hours). The outbox's redelivery sends the event again, and the next
    worker handles it once, within the redelivery pause instead of hours.
    """
    settings.OUTBOX_REDELIVER_SECONDS = 1
    env = {"OUTBOX_REDELIVER_SECONDS": "1"}
    first = celery_worker(
        queues=[RELAY_QUEUE, subscriber_tasks.QUEUE], env=env, include=[subscriber_tasks.__name__]
    )
    with transaction.atomic():
        publish(OutboxProbe(label="killed mid-way", tags=["slow"]))
    row = OutboxMessage.objects.get()
    assert wait_for(lambda: f"Task {CONSUMER}[" in first.log(), seconds=DELIVERY_WAIT_SECONDS), first.log()
    first.kill()
    assert not ProcessedEvent.objects.filter(event_id=row.event_id).exists()

    second = celery_worker(
        queues=[RELAY_QUEUE, subscriber_tasks.QUEUE], env=env, include=[subscriber_tasks.__name__]
    )

    def handled() -> bool:
        tasks.redeliver_outbox.apply_async()  # what beat sends every 30 s
        return ProcessedEvent.objects.filter(event_id=row.event_id, consumer=CONSUMER).exists()

    assert wait_for(handled, seconds=DELIVERY_WAIT_SECONDS, interval=2), second.log()
    row.refresh_from_db()
    assert row.redeliveries >= 1
    assert ProcessedEvent.objects.filter(event_id=row.event_id).count() == 1
