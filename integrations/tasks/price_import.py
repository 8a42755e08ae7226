"""The price-import task, on the ``prices`` queue (``integrations.price_*`` is routed there)."""

from celery import shared_task

from integrations.services import price_import


@shared_task(
    name="integrations.price_import_run",
    acks_late=True,
    reject_on_worker_lost=True,
    # A long file may take minutes; the broker's visibility timeout (3 h) stays longer.
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def price_import_run(job_id: str) -> None:
    """
    Run the price import ``job_id``. Idempotent: a ``done`` or ``failed`` job is left alone, a
    ``running`` one (its worker died, the task came back) starts over.
    """
    price_import.price_import_run(job_id=job_id)
