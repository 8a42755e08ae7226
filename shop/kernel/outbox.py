"""
The outbox relay: hands unsent events to their subscribers' Celery tasks and marks them sent.

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``, so relays running together (the
on-commit trigger, the beat sweep, several workers) never send a row twice. A row is marked sent
only in the transaction that claimed it and after the broker took every message; if the broker
fails, the transaction rolls back and the row waits for the next sweep. Delivery is therefore at
least once, and consumers are idempotent (``shop.kernel.events.consume_once``).
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.kernel.events import subscribers
from shop.kernel.models import OutboxMessage

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
            for row in rows:
                envelope = row.envelope()
                for task_name in subscribers(row.event_type):
                    current_app.send_task(task_name, kwargs={"envelope": envelope})
            OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(sent_at=timezone.now())
        sent += len(rows)
        batches += 1
    return sent


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
    """Delete sent rows older than the retention period; return how many were deleted."""
    if older_than is None:
        older_than = timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - older_than).delete()
    return deleted
