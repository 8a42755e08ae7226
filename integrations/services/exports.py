"""
Product feeds (exports): a CSV of every sellable variant, built by a worker and stored as a file.

The feed is read in keyset chunks (``catalog.api.iter_feed_chunks``), each chunk's availability
in one call to ``inventory.api.get_availability``, and written row by row to a temporary file
that is then copied to the default storage (MEDIA_ROOT, which the web server must share, or a
bucket): memory stays constant whatever the catalog's size. The web server reads it back through
the same storage API, never by a local path.

Consistency: on PostgreSQL the whole read runs in one ``REPEATABLE READ READ ONLY`` transaction,
so every chunk sees the database as it was at the first query. A price changed (committed) while
the export runs is not in the feed at all, rather than in the chunks read after it: the feed is
a snapshot of one moment. A read-only snapshot takes no locks, so price imports and checkouts
are not held up by it. SQLite gives the same within one transaction (one read snapshot).
"""

import logging
import tempfile
from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from catalog import api as catalog_api
from catalog.data import FeedRow
from integrations import errors, metrics
from integrations.models import ExportJob
from integrations.services import dispatch
from inventory import api as inventory_api
from shop.kernel import csv_writer

logger = logging.getLogger(__name__)

HEADER = ("sku", "name", "price", "currency", "availability", "url")
IN_STOCK = "in stock"
OUT_OF_STOCK = "out of stock"
# Rows per chunk: one catalog query and one availability query each, so larger chunks are a little
# faster (100k products, benchmarks/export_feed.py: 17.4 s at 2,000, 14.1 s at 10,000); memory is
# bounded by one chunk (a few MB). (The gap was 32 s against 21 s while PostgreSQL's JIT compiled
# every availability read: see POSTGRES_JIT in the settings.)
CHUNK_SIZE = 10_000


def export_create(*, format: str = "csv", created_by_id: int | None = None) -> ExportJob:
    """
    Create a queued export job; its task is sent when the transaction commits (``dispatch``: a
    job whose task cannot be sent then is sent later).
    """
    if format != "csv":
        raise ValueError(f"Unknown export format {format!r}; only csv.")
    with transaction.atomic():
        job = ExportJob(format=format, created_by_id=created_by_id)
        job.full_clean()
        job.save()
        dispatch.send_on_commit(job)
    return job


def export_file_name(job: ExportJob) -> str:
    """The name a downloaded feed is saved under."""
    return f"feed-{job.id}.csv"


def _require_built(job: ExportJob) -> None:
    if job.status != ExportJob.Status.DONE or not job.file:
        raise errors.ExportNotReady(job.status)


def export_file_open(job: ExportJob) -> IO[bytes]:
    """
    Open the built feed of ``job`` for reading through the default storage (a folder every
    process sees, or a bucket), never by a local path.

    Raises:
        errors.ExportNotReady: the export is not done (or has no file).
        errors.ExportFileMissing: the storage has no such file.
    """
    _require_built(job)
    try:
        return job.file.open("rb")
    except FileNotFoundError:
        raise errors.ExportFileMissing(_missing_message(job)) from None


def export_file_url(job: ExportJob) -> str:
    """
    A URL of the bucket that serves the built feed of ``job`` as a download for a short while
    (signed, ``AWS_QUERYSTRING_EXPIRE``): for ``EXPORT_DOWNLOAD_REDIRECT`` with S3 storage.

    Raises:
        errors.ExportNotReady: the export is not done (or has no file).
        errors.ExportFileMissing: the storage has no such file (asked first, so that a client
            gets the shop's 404 rather than the bucket's).
    """
    _require_built(job)
    storage = job.file.storage
    if not storage.exists(job.file.name):
        raise errors.ExportFileMissing(_missing_message(job))
    return storage.url(
        job.file.name,
        parameters={
            "ResponseContentDisposition": f'attachment; filename="{export_file_name(job)}"',
            "ResponseContentType": "text/csv; charset=utf-8",
        },
    )


def _missing_message(job: ExportJob) -> str:
    return (
        f"The file of export {job.id} is missing from the file storage (deleted, or not on a storage "
        "that the web server shares with the workers); start a new export."
    )


def export_claim(job_id: str) -> ExportJob | None:
    """
    Mark the job running and return it, or None if there is nothing to do (unknown, done or
    failed). A job found running was being built by a worker that died (the task is acknowledged
    late): it is built again from the start, which overwrites nothing but its own file.
    """
    claimed = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    ).update(status=ExportJob.Status.RUNNING, started_at=timezone.now(), failure="")
    return ExportJob.objects.get(pk=job_id) if claimed else None


def export_build(job_id: str, *, chunk_size: int = CHUNK_SIZE) -> ExportJob | None:
    """
    Build the feed of the job ``job_id`` and store it; the job ends ``done`` with its row count,
    or ``failed`` with the reason (the exception is raised again for the task's log). Idempotent:
    a job already done or failed is left alone (None).
    """
    job = export_claim(job_id)
    if job is None:
        return None
    try:
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="") as tmp:
            rows = write_feed(tmp, chunk_size=chunk_size)
            tmp.flush()
            tmp.seek(0)
            job.file.save(export_file_name(job), File(tmp), save=False)
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            failure=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        metrics.export_finished(status=ExportJob.Status.FAILED, started_at=job.started_at)
        raise
    job.rows = rows
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "rows", "status", "finished_at"])
    metrics.export_finished(status=job.status, started_at=job.started_at, rows=rows)
    return job


def write_feed(out, *, chunk_size: int = CHUNK_SIZE) -> int:
    """
    Write the CSV feed to the text stream ``out`` and return its number of rows (header aside).
    The read is one snapshot: see the module's docstring. A cell that a spreadsheet would run as
    a formula (a name starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
    written with a single quote in front (``shop.kernel.csv_writer``).
    """
    writer = csv_writer.writer(out, lineterminator="\n")  # text cells safe from spreadsheet formulas
    writer.writerow(HEADER)
    product_url = product_url_template()
    rows = 0
    with _snapshot():
        for chunk in catalog_api.iter_feed_chunks(chunk_size=chunk_size):
            availability = inventory_api.get_availability(skus=[row.sku for row in chunk])
            writer.writerows(_line(row, availability[row.sku].available > 0, product_url) for row in chunk)
            rows += len(chunk)
            after_chunk(rows)
    return rows


def after_chunk(rows: int) -> None:
    """Called after each chunk with the rows written so far: a seam for tests and progress."""


def product_url_template() -> Callable[[FeedRow], str]:
    """
    The URL of a feed row's product: ``PRODUCT_URL_TEMPLATE`` with ``{base_url}``
    (``SHOP_BASE_URL`` without its trailing slash), ``{slug}`` and ``{sku}`` filled in (both
    URL-safe by the catalog's rules: letters, digits, ``-``, ``_``, and ``.`` in a SKU).
    """
    template = settings.PRODUCT_URL_TEMPLATE
    base_url = settings.SHOP_BASE_URL.rstrip("/")
    return lambda row: template.format(base_url=base_url, slug=row.product_slug, sku=row.sku)


def _line(row: FeedRow, available: bool, product_url: Callable[[FeedRow], str]) -> tuple:
    return (
        row.sku,
        row.display_name,
        f"{row.amount:f}",  # the currency's minor units (catalog.api.iter_feed_chunks)
        row.currency,
        IN_STOCK if available else OUT_OF_STOCK,
        product_url(row),
    )


class _snapshot:
    """
    One read-only transaction that sees a single snapshot: REPEATABLE READ on PostgreSQL. Inside
    a caller's transaction (a test's) it can only join it, which sees one snapshot too if that
    transaction is REPEATABLE READ, else it is as consistent as the caller made it.
    """

    def __enter__(self):
        self.outer = connection.in_atomic_block
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        if not self.outer and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return self

    def __exit__(self, *exc_info):
        return self.atomic.__exit__(*exc_info)
