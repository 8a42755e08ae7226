"""
``published``: which events a test's change wrote, read from the outbox as the relay will send them.

Events are written to ``shop.kernel.models.OutboxMessage`` in the transaction of the change, one
row per event, its ``event_type`` the class's and its ``payload`` the event's fields as JSON (a
Decimal a string, a date ISO 8601). Tests that ask "was this event written, with what?" ask it
here; tests of the outbox itself (``sent_at``, redelivery, the relay) read the rows directly.
"""

from typing import Any

from shop.kernel.events import Event
from shop.kernel.models import OutboxMessage


def published(event: type[Event], **fields: Any) -> list[dict]:
    """
    Return the payloads of the outbox rows of ``event``'s type, oldest first; with ``fields``,
    only those whose payload has each field equal to the JSON value given (``sku="A-1"``).
    """
    rows = OutboxMessage.objects.filter(event_type=event.event_type).order_by("id")
    return [
        payload
        for payload in rows.values_list("payload", flat=True)
        if all(payload.get(name) == value for name, value in fields.items())
    ]


def forget_published() -> None:
    """Empty the outbox, so that ``published`` answers for what the test does next only."""
    OutboxMessage.objects.all().delete()
