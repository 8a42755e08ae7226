"""
A test-only event and its subscriber, imported by the kernel tests and by the Celery worker that
the end-to-end test starts (``--include tests.kernel.subscriber_tasks``).

The event has its own ``event_type``, so the subscription (the subscriber registry is
process-global) only concerns events the tests publish themselves. The subscriber's task is
routed to a queue of its own, so that the tests can count its messages in Redis and no other
worker takes them.
"""

import time
from dataclasses import dataclass, field
from decimal import Decimal

from shop.kernel import logcontext
from shop.kernel.events import Event
from shop.kernel.subscribers import event_handler

QUEUE = "shop-test-kernel-outbox"
CONSUMER = "tests.kernel.record_probe"

#: The events the subscriber handled in this process (the worker has its own, unused, list),
#: and the request id in the log context while it handled each.
HANDLED: list["OutboxProbe"] = []
REQUEST_IDS: list[str | None] = []


class ProbeFailed(Exception):
    pass


@dataclass(frozen=True, kw_only=True)
class OutboxProbe(Event):
    """A test event: something happened to ``label``."""

    event_type = "tests.kernel.OutboxProbe"

    label: str
    amount: Decimal | None = None
    tags: list[str] = field(default_factory=list)


@event_handler(OutboxProbe, name=CONSUMER, queue=QUEUE)
def record_probe(event: OutboxProbe) -> None:
    """
    The subscriber: the kernel's inbox row is its observable effect (and ``HANDLED`` here). A
    probe with ``"slow"`` among its tags takes a few seconds, long enough to kill its worker
    mid-way; one with ``"fail"`` raises.
    """
    if "slow" in event.tags:
        time.sleep(5)
    if "fail" in event.tags:
        raise ProbeFailed(event.label)
    HANDLED.append(event)
    REQUEST_IDS.append(logcontext.REQUEST_ID.get())
