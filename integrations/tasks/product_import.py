"""The product-import (PIM) task, on the ``prices`` queue (``integrations.product_*`` is routed there)."""

from celery import shared_task

from integrations.services import product_import


@shared_task(
    name="integrations.product_import_run",
    acks_late=True,
    reject_on_worker_lost=True,
    # A long feed may take minutes; the broker's visibility timeout (3 h) stays longer.
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def product_import_run(job_id: str) -> None:
    """
    Run the product import ``job_id``. Idempotent: a ``done`` or ``failed`` job is left alone, a
    ``running`` one (its worker died, the task came back) starts over (an upsert applied twice
    changes nothing the second time).
    """
    product_import.product_import_run(job_id=job_id)
