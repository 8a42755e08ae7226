"""
Subscribers: the Celery tasks that handle events, and the inbox that runs a handler at most once
per event.

A context declares a subscriber in its ``handlers.py`` with ``event_handler``, which records the
subscription (``shop.kernel.subscriptions``, the registry the relay and publication read); the
task runs the handler through ``consume_once``, whose inbox row
(``ProcessedEvent``) commits with the handler's writes. Publishing is ``shop.kernel.events``.
"""

import logging
from collections.abc import Callable

from celery import shared_task
from django.db import transaction

from shop.kernel import logcontext, tracing
from shop.kernel.db import insert_unless_conflict
from shop.kernel.events import Event
from shop.kernel.subscriptions import Accepts, subscribe

logger = logging.getLogger(__name__)


def event_handler(
    event_cls: type[Event], *, name: str, when: Accepts | None = None, **task_options
) -> Callable:
    """
    Declare ``fn(event)`` a subscriber of ``event_cls``, run by a Celery task called ``name``.

    The handler runs at most once per event and consumer: the inbox row and the handler's writes
    commit together, so a redelivered event is acknowledged without effect. A handler that
    raises leaves no inbox row and is retried by Celery (``task_options`` may set retries).

    ``when(payload)`` says which events the handler wants (``OrderStatusChanged`` to canceled
    only, say): the relay sends the others no task at all, and counts them handled for this
    subscriber, where a handler that returns early would still cost a task, a transaction and an
    inbox row per event. It reads the event's payload (a dict, as stored in the outbox); keep it
    a pure function of it.

    The task takes one event (``envelope``) or, from the relay, several for this task
    (``envelopes``, up to ``OUTBOX_EVENTS_PER_MESSAGE``): one broker message and one task run
    for the events a relay claimed together, each still handled in its own transaction
    (``consume_batch``). It returns whether the handler ran, or a list of that for a batch.
    """

    def decorator(fn: Callable[[Event], None]):
        @shared_task(name=name, **task_options)
        def task(envelope: dict | None = None, envelopes: list[dict] | None = None) -> bool | list[bool]:
            if envelopes is None:  # one event (a message of the relay's for one, or sent by hand)
                return _consume(name, envelope, fn, event_cls, when)
            return consume_batch(
                envelopes, lambda one: _consume(name, one, fn, event_cls, when), consumer=name
            )

        subscribe(event_cls.event_type, name, when=when)
        task.handler = fn
        return task

    return decorator


def _consume(name: str, envelope: dict, fn: Callable, event_cls: type[Event], when: Accepts | None) -> bool:
    if when is not None and not when(envelope["payload"]):  # sent by hand: not this one's
        return False
    return consume_once(consumer=name, envelope=envelope, handler=fn, event_cls=event_cls)


def consume_batch(envelopes: list[dict], consume: Callable[[dict], bool], *, consumer: str) -> list[bool]:
    """
    Run ``consume`` for each envelope of a relay's message of several, in order, each in its own
    transaction (its inbox row commits with its handler's writes, as for a message of one), with
    the log context of the request that published it (``request_id`` in the envelope) and, with
    tracing on, in a span ``handle/<consumer>`` of that request's trace (``traceparent``). One that
    raises is logged and the others still run; the first error is raised at the end, so that the
    task counts as failed and a retry of the whole message (harmless: the inbox) is possible. An
    event that failed has no inbox row, so the relay's redelivery sends it again.
    """
    handled, failed = [], []
    for envelope in envelopes:
        # Each event starts with its publisher's request id and no order number; the caller's
        # context is given back after it.
        request_id = logcontext.REQUEST_ID.set(envelope.get("request_id") or None)
        order_number = logcontext.ORDER_NUMBER.set(None)
        try:
            with tracing.continued(envelope.get("traceparent") or "", f"handle/{consumer}"):
                handled.append(consume(envelope))
        except Exception as exc:
            logger.exception(
                "%s failed on event %s; the others of its message go on.", consumer, envelope.get("id")
            )
            failed.append(exc)
            handled.append(False)
        finally:
            logcontext.REQUEST_ID.reset(request_id)
            logcontext.ORDER_NUMBER.reset(order_number)
    if failed:
        raise failed[0]
    return handled


def consume_once(*, consumer: str, envelope: dict, handler: Callable, event_cls: type[Event]) -> bool:
    """Run ``handler`` for the event in ``envelope`` unless ``consumer`` already has; True if it ran."""
    from shop.kernel.models import ProcessedEvent

    if envelope["type"] != event_cls.event_type:
        raise ValueError(f"{consumer} expects {event_cls.event_type}, got {envelope['type']}.")
    event = event_cls.from_payload(envelope["payload"])
    with transaction.atomic():
        # One INSERT ... ON CONFLICT DO NOTHING: a redelivery (or a concurrent delivery, once it
        # commits) meets the unique (event, consumer) and writes nothing, without a savepoint.
        if not insert_unless_conflict(ProcessedEvent(event_id=envelope["id"], consumer=consumer)):
            logger.info("%s already handled event %s", consumer, envelope["id"])
            return False
        handler(event)
    return True
