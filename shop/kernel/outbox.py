"""
The outbox relay: hands unsent events to their subscribers' Celery tasks and marks them sent.

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``, so relays running together (the
on-commit trigger, the beat sweep, several workers) never send a row twice. A row is marked sent
only in the transaction that claimed it and after the broker took every message; if the broker
fails, the transaction rolls back and the row waits for the next sweep. Delivery is therefore at
least once, and consumers are idempotent (``shop.kernel.subscribers.consume_once``).

The broker's acceptance is not the end of it: a message can still be lost after that (Redis
restarted without persistence, a worker killed inside the handler and its message held back for
the visibility timeout). ``redeliver`` compares the facts with their follow-ups: a sent row whose
subscribers have not all written their inbox row by its ``check_at`` is sent again to the ones
missing, with a growing pause between rounds; a row whose subscribers all have is marked
``handled_at``. Nothing therefore depends on a broker message surviving.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.kernel import logcontext, tracing
from shop.kernel.models import OutboxMessage, ProcessedEvent
from shop.kernel.subscriptions import subscribers

logger = logging.getLogger(__name__)


def relay(*, batch_size: int = 100, max_batches: int | None = None) -> int:
    """
    Relay unsent outbox rows in id order, a batch per transaction; return how many were sent.

    Raises:
        kombu.exceptions.OperationalError: the broker is unreachable (the claimed batch stays
            unsent; earlier batches are already marked sent).
    """
    sent = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True)
                .order_by("id")[:batch_size]
            )
            if not rows:
                break
            awaited, unsubscribed, sends = [], [], []
            for row in rows:
                names = subscribers(row.event_type, row.payload)
                sends.extend((row, name) for name in names)
                (awaited if names else unsubscribed).append(row.pk)
            _send(sends)
            now = timezone.now()
            OutboxMessage.objects.filter(pk__in=awaited).update(sent_at=now, check_at=now + _pause(0))
            OutboxMessage.objects.filter(pk__in=unsubscribed).update(sent_at=now, handled_at=now)
        sent += len(rows)
        batches += 1
        if len(rows) < batch_size:
            # The rest, if any, committed after this claim: their commits asked for a relay of
            # their own (the relay task clears its mark before it starts), and the sweep follows.
            break
    return sent


def _send(sends: list[tuple[OutboxMessage, str]]) -> None:
    """
    Send each (row, task name) pair's event to its task: the events of one task in messages of up
    to ``OUTBOX_EVENTS_PER_MESSAGE`` (``envelopes``; ``envelope`` for one), in the rows' order.
    A message costs the broker, the worker's consumer and the task's start once whatever it
    carries, and under load one relay claims the events of many commits.

    Each event goes with the request id and the trace context of the request that published it
    (none for an event of beat's, an import's, ...), not the relay's own: a message of one event
    carries them in its headers, as any task a request sends; a message of several in each
    envelope (``request_id``, ``traceparent``), and the task handles each event with its own.
    """
    by_task: dict[str, list[OutboxMessage]] = {}
    for row, task_name in sends:
        by_task.setdefault(task_name, []).append(row)
    size = max(settings.OUTBOX_EVENTS_PER_MESSAGE, 1)
    for task_name, rows in by_task.items():
        for start in range(0, len(rows), size):
            _send_message(task_name, rows[start : start + size])


def _send_message(task_name: str, rows: list[OutboxMessage]) -> None:
    # The message's header that monitoring shows (Flower, ``celery inspect``) names the events,
    # not their payloads: no customer's e-mail or address there, and no repr of them to build.
    shown = [f"<{row.event_type} {row.event_id}>" for row in rows]
    if len(rows) == 1:
        kwargs, kwargsrepr = {"envelope": rows[0].envelope()}, f"{{'envelope': {shown[0]}}}"
        # The message's headers carry the publisher's request id and trace context, as those of
        # any task a request sends do.
        request_id, trace_context = rows[0].request_id, rows[0].trace_context
    else:
        envelopes = [
            {**row.envelope(), "request_id": row.request_id, "traceparent": row.trace_context} for row in rows
        ]
        kwargs, kwargsrepr = {"envelopes": envelopes}, f"{{'envelopes': [{', '.join(shown)}]}}"
        request_id, trace_context = "", ""  # each event's are in its envelope
    bound = logcontext.REQUEST_ID.set(request_id or None)
    try:
        with tracing.within(trace_context):
            current_app.send_task(task_name, kwargs=kwargs, kwargsrepr=kwargsrepr)
    finally:
        logcontext.REQUEST_ID.reset(bound)


def _pause(redeliveries: int) -> timedelta:
    """How long to wait for the inbox rows after the ``redeliveries``-th send: doubling, capped."""
    seconds = settings.OUTBOX_REDELIVER_SECONDS * 2**redeliveries
    return timedelta(seconds=min(seconds, settings.OUTBOX_REDELIVER_MAX_SECONDS))


def redeliver(*, batch_size: int = 500, max_batches: int = 20) -> int:
    """
    Look at sent rows due for a check (``check_at`` passed, not yet handled): mark those whose
    every subscriber has an inbox row ``handled_at``, and send the others again to the
    subscribers missing (a redelivery is harmless: the inbox makes a second run a no-op). Returns
    how many rows were sent again.

    A backlog in a queue (messages that are late, not lost) costs a duplicate per round at most,
    and the pause doubles with each round (``OUTBOX_REDELIVER_SECONDS``, up to
    ``OUTBOX_REDELIVER_MAX_SECONDS``), so a subscriber that keeps failing is retried, not flooded,
    and its rows stay visible in the admin with ``redeliveries`` and ``last_error``.

    Raises:
        kombu.exceptions.OperationalError: the broker is unreachable (the claimed batch keeps its
            state and is looked at again on the next run).
    """
    resent = 0
    for _ in range(max_batches):
        with transaction.atomic():
            now = timezone.now()
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=False, handled_at__isnull=True, check_at__lte=now)
                .order_by("check_at")[:batch_size]
            )
            if not rows:
                break
            done = set(
                ProcessedEvent.objects.filter(event_id__in=[row.event_id for row in rows]).values_list(
                    "event_id", "consumer"
                )
            )
            handled, missed, sends = [], [], []
            for row in rows:
                missing = [
                    name
                    for name in subscribers(row.event_type, row.payload)
                    if (row.event_id, name) not in done
                ]
                if not missing:
                    handled.append(row.pk)
                    continue
                sends.extend((row, name) for name in missing)
                row.redeliveries += 1
                row.check_at = now + _pause(row.redeliveries)
                row.last_error = f"Sent again ({row.redeliveries}) to {', '.join(missing)}: no inbox record."
                missed.append(row)
            _send(sends)
            OutboxMessage.objects.filter(pk__in=handled).update(handled_at=now)
            OutboxMessage.objects.bulk_update(missed, ["redeliveries", "check_at", "last_error"])
        if missed:
            logger.warning(
                "Sent %s outbox events again to subscribers that had not handled them.", len(missed)
            )
        resent += len(missed)
        if len(rows) < batch_size:
            break
    return resent


def record_failure(error: BaseException) -> None:
    """Note a failed relay on the oldest unsent rows, so that admin shows why they wait."""
    with transaction.atomic():
        pks = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")
            .values_list("pk", flat=True)[:100]
        )
        OutboxMessage.objects.filter(pk__in=pks).update(
            attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
        )


def purge(*, older_than: timedelta | None = None) -> int:
    """
    Delete handled rows older than the retention period; return how many were deleted. A row
    some subscriber never handled stays, visible in the admin, and is still sent again.
    """
    if older_than is None:
        older_than = timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(handled_at__lt=timezone.now() - older_than).delete()
    return deleted
