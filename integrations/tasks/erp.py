"""
ERP hand-over tasks (queue ``erp``): one delivery attempt per message, and the sweep.

Retries are not Celery's ``self.retry``: the row holds the attempt count and the time of the
next attempt, and the service sends a new message with that countdown, so a lost message (a
broker outage, a killed worker) costs nothing that the sweep cannot restore.
"""

from celery import shared_task
from django.conf import settings

from integrations import metrics
from integrations.services import erp as erp_services
from shop.kernel import logcontext

# One request at most: connect + read timeouts, plus room for the database work around it.
_ATTEMPT_SECONDS = int(settings.ERP_CONNECT_TIMEOUT_SECONDS + settings.ERP_READ_TIMEOUT_SECONDS) + 15


@shared_task(
    name="integrations.erp_deliver_handover",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=_ATTEMPT_SECONDS,
    time_limit=_ATTEMPT_SECONDS + 15,
)
def erp_deliver_handover(order_number: str) -> str:
    """Make one attempt to hand ``order_number`` over to the ERP (idempotent: claims the row first)."""
    logcontext.bind(order_number=order_number)
    return metrics.handover_attempt(erp_services.handover_deliver(order_number=order_number))


@shared_task(name="integrations.erp_requeue_handovers", ignore_result=True, soft_time_limit=60, time_limit=90)
def erp_requeue_handovers() -> int:
    """Beat: re-queue hand-overs stuck in flight and pending ones whose message was lost."""
    return erp_services.handovers_requeue()
