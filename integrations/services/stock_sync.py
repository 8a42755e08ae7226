"""
Inbound stock sync from the ERP: a feed of stock levels applied through ``inventory.api``.

The feed is CSV with the header ``sku,warehouse,on_hand`` or JSON lines with those keys, one
object per line. Valid rows are applied in chunks (``STOCK_SYNC_CHUNK_ROWS``, default 1,000) with
``inventory.api.set_on_hand_many`` (reason ``erp-sync``), each chunk in a transaction of its own
(short: the stock rows of a chunk are locked until it commits). Setting a level is absolute, so a
feed applied twice changes nothing the second time: inventory writes a ledger row only for a
change.

The job runs through ``importing.job_run`` like the other imports: ``queued`` → ``running`` →
``done`` or ``failed``; a job left running by a dead worker starts over (harmless, see above).
Rows are numbered as the file's lines (a CSV's header is line 1, its first row line 2). Rejected
rows (malformed SKU, SKU unknown to the catalog, unknown warehouse, on hand not an integer
≥ 0, below what is reserved there, the same SKU and warehouse twice) are reported in the
job's ``errors`` with their row number; the other rows are applied.
"""

import codecs
import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction

from catalog import api as catalog_api
from integrations import errors
from integrations.models import ImportJob
from integrations.services import dispatch, importing
from inventory import api as inventory_api
from shop.kernel import bounded_json
from shop.kernel.text import echo

logger = logging.getLogger(__name__)

REASON = "erp-sync"
COLUMNS = ("sku", "warehouse", "on_hand")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class StockRow:
    row: int
    sku: str
    warehouse: str
    on_hand: int


def stock_sync_create(
    *, file: File | bytes, name: str = "", created_by_id: int | None = None, enqueue: bool = True
) -> ImportJob:
    """
    Store the feed as a queued ``ImportJob(kind="stock")``; with ``enqueue`` its task is sent
    when the transaction commits (``dispatch``: a job whose task cannot be sent then is sent
    later).
    """
    content = ContentFile(file) if isinstance(file, bytes) else file
    name = name or getattr(content, "name", "") or "stock.csv"
    with transaction.atomic():
        job = ImportJob(kind=ImportJob.Kind.STOCK, original_name=name[:255], created_by_id=created_by_id)
        job.file.save(name.rsplit("/", 1)[-1], content, save=False)
        job.save()
        if enqueue:
            dispatch.send_on_commit(job)
    return job


def stock_sync_apply(job_id: str, *, chunk_rows: int | None = None) -> ImportJob | None:
    """
    Apply the feed of the stock job ``job_id`` and write its report. Idempotent: a job done or
    failed is left alone (None); a job left running by a dead worker is applied again, which
    changes nothing already applied.
    """
    job = ImportJob.objects.filter(pk=job_id, kind=ImportJob.Kind.STOCK).only("original_name", "file").first()
    if job is None:
        return None
    name = job.original_name or job.file.name
    return importing.job_run(
        job_id=job_id,
        kind=ImportJob.Kind.STOCK,
        chunk_rows=chunk_rows or settings.STOCK_SYNC_CHUNK_ROWS,
        rows=lambda stream, report: _valid_rows(stream, name, report),
        apply=_apply,
    )


def _apply(chunk: list[StockRow], report: importing.ImportReport) -> None:
    known = catalog_api.get_variants(skus=[row.sku for row in chunk])
    rows = []
    for row in chunk:
        if row.sku in known:
            rows.append(row)
        else:
            report.reject(row.row, f"Unknown SKU {row.sku!r}.")
    result = inventory_api.set_on_hand_many(
        levels=[(row.sku, row.warehouse, row.on_hand) for row in rows], reason=REASON
    )
    for index, row in enumerate(rows):
        if index in result.rejected:
            report.reject(row.row, result.rejected[index])
        else:
            report.rows_applied += 1


def _valid_rows(raw: IO[bytes], name: str, report: importing.ImportReport) -> Iterator[StockRow]:
    """Yield the rows that pass the checks made without the database, rejecting the others."""
    for row in _parse(raw, name):
        report.rows_total += 1
        if isinstance(row, StockRow):
            yield row
        else:
            report.reject(*row)


def _parse(raw, name: str) -> Iterator["StockRow | tuple[int, str]"]:
    """Yield a ``StockRow`` per valid row, ``(row, message)`` per invalid one."""
    head = raw.read(64)
    raw.seek(0)
    text = codecs.getreader("utf-8-sig")(raw, errors="strict")
    is_json = name.lower().endswith(JSON_SUFFIXES) or head.lstrip().startswith(b"{")
    records = _json_records(text) if is_json else _csv_records(text)
    seen: set[tuple[str, str]] = set()
    try:
        for number, record in records:
            if isinstance(record, str):
                yield number, record
                continue
            row = _validate(number, record)
            if isinstance(row, StockRow):
                key = (row.sku, row.warehouse)
                if key in seen:
                    row = (number, f"{row.sku} in {row.warehouse} appears more than once in the feed.")
                seen.add(key)
            yield row
    except UnicodeDecodeError as exc:
        raise errors.ImportFileUnreadable(f"The feed is not UTF-8: {exc}") from None
    except csv.Error as exc:
        raise errors.ImportFileUnreadable(f"The feed is not valid CSV: {exc}") from None


def _csv_records(text) -> Iterator[tuple[int, dict | str]]:
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None or [column.strip().lower() for column in header] != list(COLUMNS):
        raise errors.ImportFileUnreadable(
            f"The CSV header must be {','.join(COLUMNS)}, not {echo(','.join(header or []))}."
        )
    for values in reader:
        number = reader.line_num
        if not values or values == [""]:
            continue
        if len(values) != len(COLUMNS):
            yield number, f"Expected {len(COLUMNS)} columns, found {len(values)}."
            continue
        if importing.has_nul(values):
            yield number, importing.NUL_MESSAGE
            continue
        yield number, dict(zip(COLUMNS, values, strict=True))


def _json_records(text) -> Iterator[tuple[int, dict | str]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            record = bounded_json.loads(line)
        except bounded_json.JSONRefused as exc:  # nested too deep, a NUL in a string
            yield number, str(exc)
            continue
        except ValueError:
            yield number, "Not a JSON object."
            continue
        if not isinstance(record, dict):
            yield number, "Not a JSON object."
            continue
        yield number, record


def _validate(number: int, record: dict) -> "StockRow | tuple[int, str]":
    missing = [column for column in COLUMNS if record.get(column) in (None, "")]
    if missing:
        return number, f"Missing {', '.join(missing)}."
    sku, warehouse, on_hand = (record[column] for column in COLUMNS)
    if not isinstance(sku, str) or not isinstance(warehouse, str):
        return number, "sku and warehouse must be strings."
    sku, warehouse = sku.strip(), warehouse.strip()
    if isinstance(on_hand, str) and on_hand.strip().isdigit() and on_hand.strip().isascii():
        on_hand = int(on_hand.strip())
    if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0:
        return number, f"on_hand must be a whole number of 0 or more, not {echo(record['on_hand'])}."
    return StockRow(row=number, sku=sku, warehouse=warehouse, on_hand=on_hand)
