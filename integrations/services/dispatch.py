"""
Handing import and export jobs to the workers, so that none is lost between the database and the
broker.

A job is recorded ``queued`` in a transaction; its task is sent after the commit
(``send_on_commit``). That send can fail (the broker is down) or never happen (the process dies
right after the commit). Each job therefore records when its task was handed to the broker
(``sent_at``), and ``send_unsent`` (beat, ``integrations.jobs_send_unsent``, every
``JOBS_SWEEP_SECONDS``) sends the task of every job still ``queued`` without ``sent_at`` a while
after its creation.

A message the broker took can still be lost: Redis restarts empty (docker-compose runs it without
persistence). ``send_lost`` finds those jobs with the queue heartbeats (``shop.kernel.heartbeats``):
a queue is first in, first out, so a job still ``queued`` whose task was sent before a heartbeat
that a worker has since consumed from the same queue was overtaken, its message gone, and it is
sent again. A job merely waiting its turn (behind a long import on the bulk worker) is not,
because no later heartbeat has run there yet. Sending twice is harmless: a task claims its job
under a row lock and leaves a job that is done or failed alone.

A job that a worker started and then died on is not this module's business: its task was
acknowledged late (``acks_late``, ``reject_on_worker_lost``), so the broker delivers it again.
"""

import functools
import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from integrations.models import ExportJob, ImportJob
from shop.kernel import handoff, heartbeats

logger = logging.getLogger(__name__)

#: A queued job whose task was not handed to the broker this long after its creation is sent
#: (its on-commit send takes a few seconds at most, retries included).
UNSENT_AFTER = timedelta(seconds=15)
#: Slack for the clocks of beat and of the process that sent a job's task: a job counts as
#: overtaken by a heartbeat sent this much later than the job's task.
OVERTAKEN_MARGIN = timedelta(seconds=2)


def _task_name(job: ImportJob | ExportJob) -> str:
    """The name of the Celery task that runs ``job`` (``integrations.tasks``, which call services)."""
    if isinstance(job, ExportJob):
        return "integrations.export_feed"
    return {
        ImportJob.Kind.PRICES: "integrations.price_import_run",
        ImportJob.Kind.PRODUCTS: "integrations.product_import_run",
        ImportJob.Kind.STOCK: "integrations.stock_sync_run",
    }[job.kind]


def _queue(job: ImportJob | ExportJob) -> str:
    """The queue the task of ``job`` is routed to (``CELERY_TASK_ROUTES``)."""
    return current_app.amqp.router.route({}, _task_name(job))["queue"].name


def send(job: ImportJob | ExportJob) -> bool:
    """
    Send the task of ``job`` to its queue and record ``sent_at``; False (logged) if the broker
    is unreachable: the job stays ``queued`` and ``send_unsent`` sends it later.
    """
    if not handoff.send(
        _task_name(job),
        args=[str(job.pk)],
        unsent=f"Could not send {job}; it stays queued and is sent again later.",
    ):
        return False
    type(job).objects.filter(pk=job.pk).update(sent_at=timezone.now())
    return True


def send_on_commit(job: ImportJob | ExportJob) -> None:
    """Send the task of ``job`` once the current transaction commits (never raises there)."""
    transaction.on_commit(functools.partial(send, job))


def send_unsent(*, older_than: timedelta = UNSENT_AFTER) -> int:
    """
    Send the task of every job still ``queued`` whose task was never handed to the broker,
    created more than ``older_than`` ago; return how many were sent.
    """
    cutoff = timezone.now() - older_than
    sent = 0
    for model in (ImportJob, ExportJob):
        unsent = model.objects.filter(status=model.Status.QUEUED, sent_at__isnull=True, created_at__lt=cutoff)
        for job in unsent.order_by("created_at")[:1000]:
            sent += send(job)
    return sent


def send_lost() -> int:
    """
    Send again the task of every job still ``queued`` whose message its queue lost: sent before
    the newest heartbeat a worker consumed from that queue (``OVERTAKEN_MARGIN`` aside). Return
    how many were sent.
    """
    overtaken_before: dict[str, object] = {}
    sent = 0
    for model in (ImportJob, ExportJob):
        waiting = model.objects.filter(status=model.Status.QUEUED, sent_at__isnull=False)
        for job in waiting.order_by("sent_at")[:1000]:
            queue = _queue(job)
            if queue not in overtaken_before:
                heartbeat_sent = heartbeats.newest_consumed_send(queue)
                overtaken_before[queue] = heartbeat_sent and heartbeat_sent - OVERTAKEN_MARGIN
            if overtaken_before[queue] and job.sent_at < overtaken_before[queue]:
                logger.warning("%s was overtaken on %s: its message was lost; sending it again.", job, queue)
                sent += send(job)
    return sent
