"""
The outbox relay against real brokers: a dead one (nothing listens on its port) and the real
Redis (``REDIS_URL``), whose queues are read back with kombu. Nothing is mocked.

The relay tests run with a hang guard (``timeout``), not a duration assertion: with the broker
down, the relay must give up after the publish retry policy instead of waiting for the broker.
"""

import logging
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from catalog.events import PriceChanged
from catalog.models import Product
from catalog.services import category_create, product_create
from shop.kernel import outbox, tasks
from shop.kernel.events import publish
from shop.kernel.models import OutboxMessage
from tests.kernel import subscriber_tasks
from tests.kernel.brokers import envelopes_of
from tests.kernel.subscriber_tasks import CONSUMER, OutboxProbe

# --- the broker is down -----------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.django_db
def test_with_the_broker_down_the_relay_raises_and_the_rows_stay_unsent(broker_down):
    with transaction.atomic():
        publish(OutboxProbe(label="one"))
        publish(OutboxProbe(label="two"))

    with pytest.raises(OperationalError):
        outbox.relay()

    rows = list(OutboxMessage.objects.order_by("id"))
    assert len(rows) == 2
    assert all(row.sent_at is None for row in rows)


@pytest.mark.timeout(60)
@pytest.mark.django_db
def test_with_the_broker_down_the_sweep_records_the_failure(broker_down):
    with transaction.atomic():
        publish(OutboxProbe(label="one"))
        publish(OutboxProbe(label="two"))

    with pytest.raises(OperationalError):
        tasks.relay_outbox()  # the beat sweep's task, run in-process
    with pytest.raises(OperationalError):
        tasks.relay_outbox()

    for row in OutboxMessage.objects.all():
        assert row.sent_at is None
        assert row.attempts == 2
        assert row.last_error.startswith("OperationalError: ")


@pytest.mark.timeout(60)
@pytest.mark.django_db(transaction=True)
def test_a_commit_succeeds_while_the_broker_is_down(broker_down, caplog):
    category = category_create(name="Tools", slug="tools")

    with caplog.at_level(logging.WARNING, logger="shop.kernel.events"), transaction.atomic():
        product_create(name="Hammer", slug="hammer", category=category)
        publish(OutboxProbe(label="waits"))
    # The commit went through (the relay trigger failed after it, quietly): the event waits.

    assert Product.objects.filter(slug="hammer").exists()
    row = OutboxMessage.objects.get(event_type=OutboxProbe.event_type)
    assert (row.payload["label"], row.sent_at) == ("waits", None)
    assert "Could not trigger the outbox relay" in caplog.text


# --- the broker is back: the real Redis ------------------------------------------------------


@pytest.mark.redis
@pytest.mark.timeout(120)
@pytest.mark.django_db
def test_the_sweep_delivers_what_waited_while_the_broker_was_down(broker_down, probe_queue):
    probes = [OutboxProbe(label=label, amount=Decimal("1.10"), tags=[label]) for label in ("a", "b", "c")]
    with transaction.atomic():
        for probe in probes:
            publish(probe)
        publish(PriceChanged(sku="HAM-1", currency="EUR", amount=Decimal("2.00")))  # no subscriber
    probe_ids = {str(row.event_id) for row in OutboxMessage.objects.filter(event_type=OutboxProbe.event_type)}
    # The event nobody wants was stored handled: the relay has only the probes to send.
    assert OutboxMessage.objects.get(event_type=PriceChanged.event_type).handled_at is not None

    with pytest.raises(OperationalError):
        tasks.relay_outbox()
    assert OutboxMessage.objects.filter(sent_at__isnull=True, attempts=1).count() == 3
    assert len(probe_queue) == 0

    broker_down.restore()
    assert tasks.relay_outbox() == 3

    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    # The Redis list kombu keeps the queue in: one message for the subscriber's three events.
    assert len(probe_queue) == 1
    [(task, kwargs)] = probe_queue.drain()
    assert task == CONSUMER
    envelopes = kwargs["envelopes"]
    assert [envelope["id"] for envelope in envelopes] == [
        str(event_id)
        for event_id in OutboxMessage.objects.filter(event_type=OutboxProbe.event_type)
        .order_by("id")
        .values_list("event_id", flat=True)
    ]
    assert {envelope["id"] for envelope in envelopes} == probe_ids
    assert all(envelope["type"] == OutboxProbe.event_type for envelope in envelopes)
    assert [OutboxProbe.from_payload(e["payload"]) for e in envelopes] == probes
    assert all(envelope["request_id"] == "" for envelope in envelopes)  # published outside a request
    # What monitoring shows of a message names the events, not their payloads.
    shown = ", ".join(f"<{OutboxProbe.event_type} {envelope['id']}>" for envelope in envelopes)
    assert [headers["kwargsrepr"] for headers in probe_queue.headers] == [f"{{'envelopes': [{shown}]}}"]

    assert tasks.relay_outbox() == 0  # nothing is sent twice
    assert len(probe_queue) == 0


@pytest.mark.redis
@pytest.mark.timeout(60)
@pytest.mark.django_db
def test_the_relay_sends_the_oldest_rows_a_batch_at_a_time(probe_queue):
    with transaction.atomic():
        for number in range(5):
            publish(OutboxProbe(label=f"probe-{number}"))

    assert outbox.relay(batch_size=2, max_batches=1) == 2

    sent = OutboxMessage.objects.filter(sent_at__isnull=False).order_by("id")
    assert [row.payload["label"] for row in sent] == ["probe-0", "probe-1"]
    assert [envelope["payload"]["label"] for _, envelope in envelopes_of(probe_queue.drain())] == [
        "probe-0",
        "probe-1",
    ]
    assert outbox.relay(batch_size=2) == 3
    assert [envelope["payload"]["label"] for _, envelope in envelopes_of(probe_queue.drain())] == [
        "probe-2",
        "probe-3",
        "probe-4",
    ]


# --- relays running together ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_two_relays_running_together_send_each_row_once(probe_queue):
    total = 500
    occurred_at = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            event_type=OutboxProbe.event_type,
            version=OutboxProbe.version,
            payload=OutboxProbe(label=f"probe-{number}").to_payload(),
            occurred_at=occurred_at,
        )
        for number in range(total)
    )
    start = threading.Barrier(2, timeout=30)
    sent_by: dict[str, int] = {}
    errors: list[BaseException] = []

    def run_relay(name: str) -> None:
        try:
            start.wait()
            sent_by[name] = outbox.relay(batch_size=50)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run_relay, args=(name,)) for name in ("relay-1", "relay-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a relay hangs"
    assert not errors, errors

    assert sum(sent_by.values()) == total
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    messages = probe_queue.drain()
    ids = [envelope["id"] for _, envelope in envelopes_of(messages)]
    assert len(ids) == total
    assert len(set(ids)) == total
    assert set(ids) == {
        str(event_id) for event_id in OutboxMessage.objects.values_list("event_id", flat=True)
    }


# --- a message lost after the broker took it -------------------------------------------------


@pytest.mark.redis
@pytest.mark.timeout(60)
@pytest.mark.django_db
def test_an_event_whose_message_was_lost_is_sent_again_until_its_subscriber_handles_it(probe_queue, settings):
    settings.OUTBOX_REDELIVER_SECONDS = 0  # look again at once (the default waits two minutes)
    with transaction.atomic():
        publish(OutboxProbe(label="lost"))
        publish(PriceChanged(sku="HAM-1", currency="EUR", amount=Decimal("2.00")))  # no subscriber
    # Stored unsent, as a release before publication knew its subscribers did: the relay marks it.
    OutboxMessage.objects.filter(event_type=PriceChanged.event_type).update(sent_at=None, handled_at=None)
    assert outbox.relay() == 2
    probe_row = OutboxMessage.objects.get(event_type=OutboxProbe.event_type)
    unsubscribed = OutboxMessage.objects.get(event_type=PriceChanged.event_type)
    assert (probe_row.handled_at, probe_row.check_at is not None) == (None, True)
    assert unsubscribed.handled_at is not None  # nobody to wait for
    assert probe_queue.purge() == 1  # the broker loses the message (Redis restarted empty)

    assert tasks.redeliver_outbox() == 1  # the beat task, in-process

    [(task_name, kwargs)] = probe_queue.drain()
    assert (task_name, kwargs["envelope"]["id"]) == (CONSUMER, str(probe_row.event_id))
    probe_row.refresh_from_db()
    assert (probe_row.redeliveries, probe_row.handled_at) == (1, None)
    assert probe_row.last_error == f"Sent again (1) to {CONSUMER}: no inbox record."

    # The subscriber handles the redelivered message: the next look marks the row handled.
    assert subscriber_tasks.record_probe(kwargs["envelope"]) is True
    assert outbox.redeliver() == 0
    probe_row.refresh_from_db()
    assert probe_row.handled_at is not None
    assert len(probe_queue) == 0
    assert outbox.redeliver() == 0  # a handled row is never looked at again
    assert len(probe_queue) == 0


@pytest.mark.redis
@pytest.mark.timeout(60)
@pytest.mark.django_db
def test_a_row_is_only_looked_at_again_when_due_and_the_pause_doubles_up_to_the_cap(probe_queue, settings):
    settings.OUTBOX_REDELIVER_SECONDS = 60
    settings.OUTBOX_REDELIVER_MAX_SECONDS = 200
    with transaction.atomic():
        publish(OutboxProbe(label="slow"))
    outbox.relay()
    row = OutboxMessage.objects.get()
    assert 59 <= (row.check_at - row.sent_at).total_seconds() <= 61

    assert outbox.redeliver() == 0  # not due: its message may simply wait in a long queue
    pauses = []
    for _ in range(3):
        OutboxMessage.objects.filter(pk=row.pk).update(check_at=timezone.now())  # as if the pause had passed
        before = timezone.now()
        assert outbox.redeliver() == 1
        row.refresh_from_db()
        pauses.append(round((row.check_at - before).total_seconds() / 10) * 10)
    assert pauses == [120, 200, 200]  # 60 s doubled, then capped
    assert row.redeliveries == 3
    assert len(probe_queue) == 4  # the first send and three more


@pytest.mark.timeout(60)
@pytest.mark.django_db
def test_with_the_broker_down_the_redelivery_keeps_the_rows_as_they_were(settings, broker_down):
    settings.OUTBOX_REDELIVER_SECONDS = 0
    with transaction.atomic():
        publish(OutboxProbe(label="waiting"))
    now = timezone.now()
    OutboxMessage.objects.update(sent_at=now, check_at=now)

    with pytest.raises(OperationalError):
        outbox.redeliver()

    row = OutboxMessage.objects.get()
    assert (row.redeliveries, row.handled_at, row.check_at) == (0, None, now)
