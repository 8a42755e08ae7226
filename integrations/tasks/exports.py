"""The export task: builds a product feed on the ``exports`` queue (CELERY_TASK_ROUTES)."""

from celery import shared_task

from integrations.services import exports


@shared_task(
    name="integrations.export_feed",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # A 100,000-product feed takes about 15 s; the limits are far above that and far below the
    # broker's visibility timeout (3 h), so that a hung export is stopped, never run twice at once.
    soft_time_limit=15 * 60,
    time_limit=16 * 60,
)
def export_feed(job_id: str) -> int | None:
    """
    Build the feed of the export job ``job_id``. Idempotent: a job done or failed is left
    alone; a job left running by a worker that died is built again. Returns the row count.
    """
    job = exports.export_build(job_id)
    return None if job is None else job.rows
