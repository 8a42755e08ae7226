"""
The kernel's Celery tasks: the outbox relay (on commit and swept by beat), its redelivery and
purge, and the queue heartbeat (beat, to every queue).
"""

import logging

from celery import shared_task

from shop.kernel import funnel, handoff, heartbeats, outbox
from shop.kernel.events import RELAY_TASK

logger = logging.getLogger(__name__)


@shared_task(name=RELAY_TASK, ignore_result=True, soft_time_limit=60, time_limit=90)
def relay_outbox() -> int:
    """
    Relay the outbox; a broker failure is recorded and left to the next sweep. Before the first
    claim, a commit from now on asks for a relay of its own (``handoff.send_coalesced``).
    """
    handoff.started(RELAY_TASK)
    try:
        return outbox.relay()
    except Exception as exc:
        logger.warning("Outbox relay failed; rows stay unsent until the next sweep.", exc_info=True)
        outbox.record_failure(exc)
        raise


@shared_task(name="shop.kernel.redeliver_outbox", ignore_result=True, soft_time_limit=60, time_limit=90)
def redeliver_outbox() -> int:
    """Beat: send events again to the subscribers that have not handled them (a lost message)."""
    return outbox.redeliver()


@shared_task(name="shop.kernel.purge_outbox", ignore_result=True)
def purge_outbox() -> int:
    """Delete sent outbox rows past their retention."""
    return outbox.purge()


@shared_task(
    name="shop.kernel.queue_heartbeat",
    bind=True,
    ignore_result=True,
    acks_late=False,
    soft_time_limit=10,
    time_limit=20,
)
def queue_heartbeat(self, queue: str, expires_after: float | None = None) -> None:
    """
    Record that ``queue`` is consumed (``shop.kernel.heartbeats``). Beat sends it to ``queue``
    with an expiry ``expires_after`` seconds away: a heartbeat that waited longer is dropped
    unrun, and the send time is that expiry less ``expires_after``.
    """
    sent_at = heartbeats.sent_at_from_expiry(self.request.expires, expires_after)
    heartbeats.record(queue=queue, sent_at=sent_at, worker=self.request.hostname or "")


@shared_task(name="shop.kernel.snapshot_funnel", ignore_result=True, soft_time_limit=30, time_limit=60)
def snapshot_funnel() -> None:
    """Beat: store the checkout funnel's counters, for the operations page's last hour."""
    funnel.take_snapshot()
