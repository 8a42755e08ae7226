"""
Inbound stock sync from the ERP: a feed of stock levels applied through ``inventory.api``.

The feed is CSV with the header ``sku,warehouse,on_hand`` or JSON lines with those keys, one
object per line. Each valid row sets what a warehouse has of a SKU with
``inventory.api.set_on_hand`` (reason ``erp-sync``), in a transaction of its own (inventory's
rule: one stock write per transaction, no long locks). Setting a level is absolute, so a feed
applied twice changes nothing the second time: inventory writes a ledger row only for a change.

Rows are numbered as the file's lines (a CSV's header is line 1, its first row line 2). Rejected
rows (malformed SKU, SKU unknown to the catalog, unknown warehouse, on hand not an integer
≥ 0, below what is reserved there, the same SKU and warehouse twice) are reported in the
job's ``errors`` with their row number; the other rows are applied.
"""

import codecs
import csv
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone

from catalog import api as catalog_api
from integrations.models import ImportJob
from inventory import api as inventory_api

logger = logging.getLogger(__name__)

REASON = "erp-sync"
COLUMNS = ("sku", "warehouse", "on_hand")
CHUNK_SIZE = 1000
MAX_ERRORS = 1000
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


class FeedError(ValueError):
    """The feed as a whole cannot be read (bad header, not CSV or JSON lines, bad encoding)."""


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
    when the transaction commits.
    """
    from integrations.tasks import stock_sync as stock_sync_tasks  # tasks call services

    content = ContentFile(file) if isinstance(file, bytes) else file
    name = name or getattr(content, "name", "") or "stock.csv"
    with transaction.atomic():
        job = ImportJob(kind=ImportJob.Kind.STOCK, original_name=name[:255])
        job.file.save(name.rsplit("/", 1)[-1], content, save=False)
        job.save()
        if enqueue:
            job_id = str(job.id)
            transaction.on_commit(lambda: stock_sync_tasks.stock_sync_run.delay(job_id))
    return job


def stock_sync_apply(job_id: str) -> ImportJob | None:
    """
    Apply the feed of the stock job ``job_id`` and write its report. Idempotent: a job done or
    failed is left alone (None); a job left running by a dead worker is applied again, which
    changes nothing already applied.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, kind=ImportJob.Kind.STOCK, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.RUNNING, started_at=timezone.now(), failure="")
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)
    job.rows_total = job.rows_applied = job.rows_rejected = 0
    job.errors = []
    try:
        with job.file.open("rb") as raw:
            for chunk in _chunks(_parse(raw, job.original_name or job.file.name), CHUNK_SIZE):
                _apply_chunk(job, chunk)
    except Exception as exc:
        job.status = ImportJob.Status.FAILED
        job.failure = f"{type(exc).__name__}: {exc}"[:2000]
        if not isinstance(exc, FeedError):
            logger.exception("Stock sync %s failed", job.pk)
    else:
        job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return job


def _apply_chunk(job: ImportJob, chunk: list["StockRow | tuple[int, str]"]) -> None:
    job.rows_total += len(chunk)
    candidates = [row for row in chunk if isinstance(row, StockRow)]
    known = catalog_api.get_variants(skus=[row.sku for row in candidates])
    for row in chunk:
        if not isinstance(row, StockRow):
            _reject(job, *row)
        elif row.sku not in known:
            _reject(job, row.row, f"Unknown SKU {row.sku!r}.")
        else:
            try:
                inventory_api.set_on_hand(
                    sku=row.sku, warehouse=row.warehouse, on_hand=row.on_hand, reason=REASON
                )
            except inventory_api.UnknownWarehouse:
                _reject(job, row.row, f"Unknown warehouse {row.warehouse!r}.")
            except inventory_api.ReservedStockError as exc:
                _reject(
                    job,
                    row.row,
                    f"on_hand {row.on_hand} is below the {exc.reserved} reserved in {row.warehouse}.",
                )
            except ValueError as exc:
                _reject(job, row.row, str(exc))
            else:
                job.rows_applied += 1
    ImportJob.objects.filter(pk=job.pk).update(
        rows_total=job.rows_total,
        rows_applied=job.rows_applied,
        rows_rejected=job.rows_rejected,
        errors=job.errors,
    )


def _reject(job: ImportJob, row: int, message: str) -> None:
    job.rows_rejected += 1
    if len(job.errors) < MAX_ERRORS:
        job.errors.append({"row": row, "message": message})


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


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
        raise FeedError(f"The feed is not UTF-8: {exc}") from None


def _csv_records(text) -> Iterator[tuple[int, dict | str]]:
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None or [column.strip().lower() for column in header] != list(COLUMNS):
        raise FeedError(f"The CSV header must be {','.join(COLUMNS)}, not {','.join(header or [])!r}.")
    for values in reader:
        number = reader.line_num
        if not values or values == [""]:
            continue
        if len(values) != len(COLUMNS):
            yield number, f"Expected {len(COLUMNS)} columns, found {len(values)}."
            continue
        yield number, dict(zip(COLUMNS, values, strict=True))


def _json_records(text) -> Iterator[tuple[int, dict | str]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
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
        return number, f"on_hand must be a whole number of 0 or more, not {record['on_hand']!r}."
    return StockRow(row=number, sku=sku, warehouse=warehouse, on_hand=on_hand)
