"""
Queue heartbeats: whether each queue is being consumed, seen from the database.

Beat sends the task ``shop.kernel.queue_heartbeat`` to every queue every
``WORKER_HEARTBEAT_SECONDS``; the worker that consumes it records, per queue, when that heartbeat
was sent and when it ran (``QueueHeartbeat``). A queue whose newest heartbeat ran longer ago than
``WORKER_HEARTBEAT_MAX_AGE_SECONDS`` has no worker consuming it: none runs, every one is stuck,
or beat stopped. ``/healthz/workers`` and ``manage.py queue_health`` (a worker container's
health check) read this. A queue busy with one long job (an import on the bulk worker) reads
stale too, which is true for whoever waits on it.

The send time also tells which messages a queue lost. A queue is first in, first out: a message
sent before a heartbeat that a worker has since consumed was taken before it. A job still
waiting for its task after that (``integrations.services.dispatch``) lost its message, as when
Redis restarts empty, and is sent again.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from shop.kernel.models import QueueHeartbeat


def record(*, queue: str, sent_at: datetime, worker: str = "") -> None:
    """Record that ``worker`` consumed from ``queue`` the heartbeat sent at ``sent_at``, now."""
    QueueHeartbeat.objects.update_or_create(
        queue=queue, defaults={"sent_at": sent_at, "consumed_at": timezone.now(), "worker": worker[:255]}
    )


def newest_consumed_send(queue: str) -> datetime | None:
    """When the newest heartbeat consumed from ``queue`` was sent (None: none was)."""
    return QueueHeartbeat.objects.filter(queue=queue).values_list("sent_at", flat=True).first()


def queue_names() -> list[str]:
    """The shop's queues (``CELERY_TASK_QUEUES``): those beat sends heartbeats to."""
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def report(queues: list[str] | None = None, *, max_age: float | None = None) -> dict[str, dict]:
    """
    For each of ``queues`` (all by default): ``{"status": "ok"|"stale", "consumed_at",
    "age_seconds", "worker"}``; stale when no heartbeat ran within ``max_age`` seconds
    (``WORKER_HEARTBEAT_MAX_AGE_SECONDS`` by default), or none ever did (``consumed_at`` None).
    """
    queues = queue_names() if queues is None else queues
    max_age = settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS if max_age is None else max_age
    now = timezone.now()
    beats = {beat.queue: beat for beat in QueueHeartbeat.objects.filter(queue__in=queues)}
    result = {}
    for queue in queues:
        beat = beats.get(queue)
        age = (now - beat.consumed_at).total_seconds() if beat else None
        result[queue] = {
            "status": "ok" if age is not None and age <= max_age else "stale",
            "consumed_at": beat.consumed_at.isoformat() if beat else None,
            "age_seconds": None if age is None else round(age, 1),
            "worker": beat.worker if beat else None,
        }
    return result


def sent_at_from_expiry(expires: str | datetime | None, expires_after: float | None) -> datetime:
    """
    When a heartbeat was sent: beat gives it an expiry ``expires_after`` seconds after sending
    (an absolute time in the message), so that the send time travels with it; now without one.
    """
    if not expires or expires_after is None:
        return timezone.now()
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    return expires - timedelta(seconds=expires_after)
