"""
Price imports: staff upload a CSV ``sku,amount,currency``; a worker validates every row and
applies the valid ones in chunks through ``catalog.api.set_prices``.

Row rules (each rejected row is reported with its number, see ``importing``):

- three fields; a SKU; an amount and a currency as ``catalog.api.parse_price`` accepts them (a
  plain non-negative decimal with at most the currency's decimal places and at most 10 digits
  before the point; three upper-case letters);
- the SKU must be known to the catalog (checked per chunk, in the chunk's own query);
- a SKU and currency given more than once: the **first** row is applied, every later one is
  rejected as a duplicate naming the first row's number. The first wins because it can be
  applied as soon as it is read, without holding the whole file back.

Every chunk (``PRICE_IMPORT_CHUNK_ROWS``, default 2,000 rows) is its own short transaction, so
that a checkout never waits long on a lock the import holds, and a cart shows each SKU's old or
new price, never a mix within a price. Progress is saved after each chunk.
"""

import logging
import uuid

from django.conf import settings
from django.db import transaction

from catalog import api as catalog_api
from integrations.models import ImportJob
from integrations.services import dispatch, importing
from shop.kernel.text import echo

logger = logging.getLogger(__name__)

HEADER = ("sku", "amount", "currency")


def max_upload_bytes() -> int:
    """The largest price CSV accepted (``PRICE_IMPORT_MAX_BYTES``, default 50 MB)."""
    return settings.PRICE_IMPORT_MAX_BYTES


def price_import_create(*, upload, created_by_id: int | None = None) -> ImportJob:
    """
    Check and store an uploaded price CSV, record a ``queued`` job and send
    ``integrations.price_import_run`` once the job is committed (``dispatch``: a job whose task
    cannot be sent then is sent later).

    Raises:
        errors.ImportFileInvalid: the upload is too large, empty, not a CSV or has the wrong
            header (nothing is stored then).
    """
    importing.check_csv_upload(upload, header=HEADER, max_bytes=max_upload_bytes())
    with transaction.atomic():
        job = importing.job_create(kind=ImportJob.Kind.PRICES, upload=upload, created_by_id=created_by_id)
        dispatch.send_on_commit(job)
    return job


def price_import_run(*, job_id: uuid.UUID | str, chunk_rows: int | None = None) -> ImportJob | None:
    """
    Run a queued price import to its end: ``done`` with its report, or ``failed`` with the reason
    if the file cannot be read (the chunks applied before stay applied). A job that is already
    ``done`` or ``failed`` is left alone (returns None): running the task twice is harmless.
    """
    return importing.job_run(
        job_id=job_id,
        kind=ImportJob.Kind.PRICES,
        chunk_rows=chunk_rows or settings.PRICE_IMPORT_CHUNK_ROWS,
        rows=lambda stream, report: _valid_rows(importing.csv_rows(stream, header=HEADER), report),
        apply=_apply,
    )


def _valid_rows(rows, report: importing.ImportReport):
    """Yield ``(row, sku, amount, currency)`` of the rows that pass the checks made without the database."""
    first_row: dict[tuple[str, str], int] = {}
    for row, fields in rows:
        report.rows_total += 1
        if len(fields) != len(HEADER):
            report.reject(row, f"Expected 3 fields (sku,amount,currency), found {len(fields)}.")
            continue
        sku, amount, currency = fields
        if not sku:
            report.reject(row, "The SKU is missing.")
            continue
        if importing.has_nul(fields):
            report.reject(row, importing.NUL_MESSAGE)
            continue
        try:
            value = catalog_api.parse_price(amount=amount, currency=currency)
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        key = (sku, currency)
        if key in first_row:
            report.reject(
                row, f"Duplicate of row {first_row[key]} ({sku} {currency}); only the first is applied."
            )
            continue
        first_row[key] = row
        yield row, sku, value, currency


def _apply(chunk: list[tuple[int, str, object, str]], report: importing.ImportReport) -> None:
    result = catalog_api.set_prices(rows=[(sku, amount, currency) for _, sku, amount, currency in chunk])
    for row, sku, _, _ in chunk:
        if sku in result.unknown_skus:
            report.reject(row, f"Unknown SKU {echo(sku)}.")
        else:
            report.rows_applied += 1
