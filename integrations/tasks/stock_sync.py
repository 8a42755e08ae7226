"""The stock-sync task: applies an ERP stock feed on the bulk worker (queue ``prices``)."""

from celery import shared_task

from integrations.services import stock_sync


@shared_task(
    name="integrations.stock_sync_run",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def stock_sync_run(job_id: str) -> int | None:
    """
    Apply the stock feed of the import job ``job_id``. Idempotent: a job done or failed is left
    alone; one left running by a dead worker is applied again (setting a level twice is a
    no-op). Returns the rows applied.
    """
    job = stock_sync.stock_sync_apply(job_id)
    return None if job is None else job.rows_applied
