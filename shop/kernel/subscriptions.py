"""
The registry of subscriptions: which Celery tasks each event type is delivered to, and for which
payloads.

``shop.kernel.subscribers.event_handler`` fills it when a context's ``handlers.py`` is imported
(its ``AppConfig.ready``, so in every process of the shop: web, workers, beat, commands). The relay
(``shop.kernel.outbox``) reads it to send each outbox row to its tasks, and publication
(``shop.kernel.events``) to store an event that no subscription wants as handled at once, with no
relay asked for it. So whether an event is delivered is decided by the code that publishes it: a
subscription added in a release reaches the events published by that release on.
"""

import json
from collections.abc import Callable

Payload = dict
Accepts = Callable[[Payload], bool]
_SUBSCRIPTIONS: dict[str, dict[str, Accepts | None]] = {}


def subscribe(event_type: str, task_name: str, *, when: Accepts | None = None) -> None:
    """
    Deliver the events of ``event_type`` to the Celery task named ``task_name``: every one, or
    those whose payload ``when`` accepts.
    """
    _SUBSCRIPTIONS.setdefault(event_type, {})[task_name] = when


def subscribers(event_type: str, payload: Payload | None = None) -> list[str]:
    """
    Return the names of the tasks an event of ``event_type`` goes to, in a stable order: those
    whose ``when`` accepts ``payload`` (all of them without a payload).
    """
    subscribed = _SUBSCRIPTIONS.get(event_type, {})
    return sorted(
        name for name, when in subscribed.items() if when is None or payload is None or when(payload)
    )


def wanted(event_type: str, payload_json: str) -> bool:
    """
    Whether some subscription wants the event of ``event_type`` whose payload is the JSON text
    ``payload_json`` (as the outbox stores it): parsed only when every subscription filters.
    """
    subscribed = _SUBSCRIPTIONS.get(event_type)
    if not subscribed:
        return False
    if any(when is None for when in subscribed.values()):
        return True
    return bool(subscribers(event_type, json.loads(payload_json)))
