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

from shop.kernel import logcontext
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
            awaited, unsubscribed = [], []
            for row in rows:
                names = subscribers(row.event_type, row.payload)
                _send(row, names)
                (awaited if names else unsubscribed).append(row.pk)
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


def _send(row: OutboxMessage, task_names: list[str]) -> None:
    """
    Send the row's event to ``task_names`` with the request id of the request that published it
    (none for an event of beat's, an import's, ...), not the relay's own: a relay sends the rows of
    many requests.
    """
    envelope = row.envelope()
    # The message's header that monitoring shows (Flower, ``celery inspect``) names the event, not
    # its payload: no customer's e-mail or address there, and no repr of it to build per send.
    shown = f"{{'envelope': <{row.event_type} {row.event_id}>}}"
    bound = logcontext.REQUEST_ID.set(row.request_id or None)
    try:
        for task_name in task_names:
            current_app.send_task(task_name, kwargs={"envelope": envelope}, kwargsrepr=shown)
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
            handled, missed = [], []
            for row in rows:
                missing = [
                    name
                    for name in subscribers(row.event_type, row.payload)
                    if (row.event_id, name) not in done
                ]
                if not missing:
                    handled.append(row.pk)
                    continue
                _send(row, missing)
                row.redeliveries += 1
                row.check_at = now + _pause(row.redeliveries)
                row.last_error = f"Sent again ({row.redeliveries}) to {', '.join(missing)}: no inbox record."
                missed.append(row)
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
