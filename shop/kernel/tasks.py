"""The kernel's Celery tasks: the outbox relay (on commit and swept by beat), its reconciliation and purge."""

import logging

from celery import shared_task

from shop.kernel import outbox

logger = logging.getLogger(__name__)


@shared_task(name="shop.kernel.relay_outbox", ignore_result=True, soft_time_limit=60, time_limit=90)
def relay_outbox() -> int:
    """Relay the outbox; a broker failure is recorded and left to the next sweep."""
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
