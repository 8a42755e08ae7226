"""
A subscriber's events in messages of several: the relay sends the events it claimed for one task
in messages of up to ``OUTBOX_EVENTS_PER_MESSAGE``, and the task handles each event of a message
in its own transaction, with the request id of the request that published it. The broker is the
real one (``REDIS_URL``); the task runs here, as the worker would run it.
"""

import logging

import pytest
from django.db import transaction

from shop.kernel import logcontext, outbox
from shop.kernel.events import publish
from shop.kernel.models import OutboxMessage, ProcessedEvent
from tests.kernel import subscriber_tasks
from tests.kernel.brokers import envelopes_of
from tests.kernel.subscriber_tasks import CONSUMER, OutboxProbe, ProbeFailed


def publish_in_requests(*labels_and_request_ids: tuple[str, str | None], tags=()) -> None:
    """Each probe published in a transaction of its own, as the request ``request_id`` would."""
    for label, request_id in labels_and_request_ids:
        bound = logcontext.REQUEST_ID.set(request_id)
        try:
            with transaction.atomic():
                publish(OutboxProbe(label=label, tags=list(tags)))
        finally:
            logcontext.REQUEST_ID.reset(bound)


def inbox() -> set[str]:
    """The labels of the probes the test subscriber has an inbox row for."""
    handled = set(ProcessedEvent.objects.filter(consumer=CONSUMER).values_list("event_id", flat=True))
    return {row.payload["label"] for row in OutboxMessage.objects.all() if row.event_id in handled}


@pytest.mark.redis
@pytest.mark.django_db
def test_a_relay_sends_a_subscribers_events_in_messages_of_up_to_the_setting_in_order(probe_queue, settings):
    settings.OUTBOX_EVENTS_PER_MESSAGE = 2
    publish_in_requests(*((f"probe-{number}", f"req-{number}") for number in range(5)))

    assert outbox.relay() == 5

    messages = probe_queue.drain()
    assert [task for task, _ in messages] == [CONSUMER] * 3
    assert [len(kwargs.get("envelopes", [kwargs.get("envelope")])) for _, kwargs in messages] == [2, 2, 1]
    assert "envelope" in messages[-1][1]  # a message of one event keeps the shape of one
    events = envelopes_of(messages)
    assert [envelope["payload"]["label"] for _, envelope in events] == [f"probe-{n}" for n in range(5)]
    # Each event of a batch carries the request id of the request that published it; a message of
    # one carries it in its header, as any task a request sends.
    assert [envelope["request_id"] for _, envelope in events[:4]] == ["req-0", "req-1", "req-2", "req-3"]
    assert probe_queue.headers[-1]["shop_request_id"] == "req-4"
    assert all("shop_request_id" not in headers for headers in probe_queue.headers[:2])


@pytest.mark.redis
@pytest.mark.django_db
def test_each_event_of_a_message_is_handled_with_its_own_request_id_and_once(probe_queue, handled_probes):
    publish_in_requests(("first", "req-a"), ("second", "req-b"), ("third", None))
    assert outbox.relay() == 3
    [(_, kwargs)] = probe_queue.drain()

    caller = logcontext.ORDER_NUMBER.set("2026-000001")  # what the caller had bound
    try:
        assert subscriber_tasks.record_probe(envelopes=kwargs["envelopes"]) == [True, True, True]
        assert logcontext.ORDER_NUMBER.get() == "2026-000001"  # given back, not cleared
    finally:
        logcontext.ORDER_NUMBER.reset(caller)

    assert [event.label for event in handled_probes] == ["first", "second", "third"]
    assert subscriber_tasks.REQUEST_IDS == ["req-a", "req-b", None]
    assert logcontext.REQUEST_ID.get() is None  # the caller's context is given back
    assert inbox() == {"first", "second", "third"}
    # The same message again (a redelivery, a retry): the inbox makes it change nothing.
    assert subscriber_tasks.record_probe(envelopes=kwargs["envelopes"]) == [False, False, False]
    assert len(handled_probes) == 3


@pytest.mark.redis
@pytest.mark.django_db
def test_an_event_that_fails_leaves_the_others_of_its_message_handled_and_is_sent_again(
    probe_queue, handled_probes, settings, caplog
):
    settings.OUTBOX_REDELIVER_SECONDS = 0
    publish_in_requests(("before", "req-1"))
    publish_in_requests(("broken", "req-2"), tags=["fail"])
    publish_in_requests(("after", "req-3"))
    assert outbox.relay() == 3
    [(_, kwargs)] = probe_queue.drain()
    broken_id = kwargs["envelopes"][1]["id"]

    caplog.handler.addFilter(logcontext.ContextFilter())  # the request id on records, as in production
    # The task fails, as one event of it did.
    with caplog.at_level(logging.ERROR, logger="shop.kernel.subscribers"), pytest.raises(ProbeFailed):
        subscriber_tasks.record_probe(envelopes=kwargs["envelopes"])

    assert [event.label for event in handled_probes] == ["before", "after"]
    assert inbox() == {"before", "after"}  # the broken one wrote nothing: its transaction rolled back
    [logged] = [record for record in caplog.records if broken_id in record.getMessage()]
    assert logged.request_id == "req-2" and logged.exc_info[0] is ProbeFailed

    # The outbox's redelivery sends the event without an inbox row again, and only that one.
    assert outbox.redeliver() == 1
    [(task, resent)] = probe_queue.drain()
    assert (task, resent["envelope"]["id"]) == (CONSUMER, broken_id)
