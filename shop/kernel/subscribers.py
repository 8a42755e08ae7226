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
    """

    def decorator(fn: Callable[[Event], None]):
        @shared_task(name=name, **task_options)
        def task(envelope: dict) -> bool:
            if when is not None and not when(envelope["payload"]):  # sent by hand: not this one's
                return False
            return consume_once(consumer=name, envelope=envelope, handler=fn, event_cls=event_cls)

        subscribe(event_cls.event_type, name, when=when)
        task.handler = fn
        return task

    return decorator


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
