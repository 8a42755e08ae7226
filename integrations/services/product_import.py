"""
Product imports (PIM): staff upload a CSV or JSON-lines feed of variants; a worker validates every
row and upserts the valid ones in chunks through ``catalog.api.upsert_products`` (products by
slug, variants by SKU, names, descriptions, categories, attribute values, whether a variant is
active).

The feed has one row per variant, the rows of one product together:

- CSV, header exactly ``sku,product_slug,product_name,variant_name,category,description,attributes``
  or that header followed by ``,active`` (``attributes`` a JSON object string, may be empty;
  ``active`` one of ``true``/``false``/``1``/``0``/``yes``/``no``, any case, empty = true); rows
  numbered as a spreadsheet shows them (header = row 1);
- JSON lines (``.jsonl``), one object per line with the same keys (``attributes`` an object,
  ``active`` optional, a JSON boolean; absent or null = true); rows numbered by line (the first
  line is row 1).

``active`` is how a PIM takes a variant off sale: nothing is ever deleted. The feed is the master
of the flag for the variants it names: a row without ``active`` (or a CSV without the column)
makes its variant active, so a variant switched off in the admin is switched on again by the next
feed that lists it without ``false``. An inactive variant leaves the product page, the product's
``price_from`` and ``in_stock`` and the exports (the catalog's read models are refreshed).

Row rules (each rejected row is reported with its number, see ``importing``): ``sku``,
``product_slug``, ``product_name`` and ``category`` are required; ``variant_name`` defaults to
the product name; ``attributes`` must be a JSON object; ``active`` must be one of the values
above. The product's fields are taken from its first row; a later row of the same product with a
different name, category, description or attributes is rejected (``active`` is the variant's
own). A SKU given twice: the first row wins, later ones are rejected. Then, per chunk,
``catalog.api.check_products``: a malformed slug or SKU, an unknown category or attribute code, a
value of the wrong type for the attribute's kind (rejects all the product's rows in the chunk), a
SKU of another product (rejects that row).

Every chunk (``PRODUCT_IMPORT_CHUNK_ROWS``, default 1,000 rows) is its own transaction, and
progress is saved after each. A product whose rows straddle two chunks is upserted twice, with
the same fields: an upsert leaves the variants it does not name alone.
"""

import codecs
import csv
import json
import logging
import uuid
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.db import transaction

from catalog import api as catalog_api
from catalog.data import ProductRow, VariantRow
from integrations import errors
from integrations.models import ImportJob
from integrations.services import dispatch, importing
from shop.kernel import bounded_json
from shop.kernel.text import echo

logger = logging.getLogger(__name__)

HEADER = ("sku", "product_slug", "product_name", "variant_name", "category", "description", "attributes")
ACTIVE = "active"
HEADER_WITH_ACTIVE = (*HEADER, ACTIVE)
CSV_TRUE = frozenset({"", "true", "1", "yes"})
CSV_FALSE = frozenset({"false", "0", "no"})
REQUIRED = ("sku", "product_slug", "product_name", "category")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
JSONL_TYPES = ("application/jsonl", "application/x-ndjson", "application/x-jsonlines", "application/json")


def max_upload_bytes() -> int:
    """The largest feed accepted (``PRODUCT_IMPORT_MAX_BYTES``, default 50 MB)."""
    return settings.PRODUCT_IMPORT_MAX_BYTES


def check_upload(upload) -> None:
    """
    Refuse an upload that cannot be a product feed before it is stored.

    Raises:
        errors.ImportFileInvalid: ``too_large``, ``empty``, ``not_csv`` (neither a CSV nor
            JSON lines, or not UTF-8), ``bad_header`` (a CSV whose first line is neither
            ``HEADER`` nor ``HEADER_WITH_ACTIVE``, or JSON lines whose first line is not a JSON
            object).
    """
    name = (upload.name or "").lower()
    content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if not (name.endswith(JSONL_SUFFIXES) or (content_type in JSONL_TYPES and not name.endswith(".csv"))):
        _check_csv_upload(upload)
        return
    if upload.size is not None and upload.size > max_upload_bytes():
        raise errors.FileTooLarge(f"The file is larger than {max_upload_bytes():,} bytes.")
    if not upload.size:
        raise errors.FileEmpty("The file is empty.")
    upload.seek(0)
    head = upload.read(64 * 1024)
    upload.seek(0)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head)
    except UnicodeDecodeError:
        raise errors.NotCsv("The file is not UTF-8 text.") from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise errors.FileEmpty("The file has no rows.")
    try:
        parsed = bounded_json.loads(first)  # nested 100,000 deep: refused, not a RecursionError
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise errors.BadHeader("The first line of a JSON-lines file must be a JSON object.")


def _check_csv_upload(upload) -> None:
    """``importing.check_csv_upload`` for either header: without or with the ``active`` column."""
    try:
        importing.check_csv_upload(upload, header=HEADER, max_bytes=max_upload_bytes())
        return
    except errors.BadHeader:
        pass
    try:
        importing.check_csv_upload(upload, header=HEADER_WITH_ACTIVE, max_bytes=max_upload_bytes())
    except errors.BadHeader:  # (the header with the active column and no row is ``FileEmpty``)
        upload.seek(0)
        lines = codecs.getincrementaldecoder("utf-8-sig")().decode(upload.read(1024)).splitlines()
        upload.seek(0)
        first = lines[0].strip() if lines else ""
        raise errors.BadHeader(
            f"The first line must be exactly {','.join(HEADER)!r}, optionally followed by ',{ACTIVE}', "
            f"not {first[:100]!r}.",
        ) from None


def product_import_create(*, upload, created_by_id: int | None = None) -> ImportJob:
    """
    Check and store an uploaded product feed, record a ``queued`` job and send
    ``integrations.product_import_run`` once the job is committed (``dispatch``).

    Raises:
        errors.ImportFileInvalid: see ``check_upload`` (nothing is stored then).
    """
    check_upload(upload)
    with transaction.atomic():
        job = importing.job_create(kind=ImportJob.Kind.PRODUCTS, upload=upload, created_by_id=created_by_id)
        dispatch.send_on_commit(job)
    return job


def product_import_run(*, job_id: uuid.UUID | str, chunk_rows: int | None = None) -> ImportJob | None:
    """
    Run a queued product import to its end: ``done`` with its report, or ``failed`` with the
    reason if the file cannot be read (the chunks applied before stay applied). A ``done`` or
    ``failed`` job is left alone (returns None).
    """
    return importing.job_run(
        job_id=job_id,
        kind=ImportJob.Kind.PRODUCTS,
        chunk_rows=chunk_rows or settings.PRODUCT_IMPORT_CHUNK_ROWS,
        rows=lambda stream, report: _valid_rows(_feed_rows(stream), report),
        apply=_apply,
    )


def _feed_rows(stream: IO[bytes]) -> Iterator[tuple[int, dict | str]]:
    """
    Yield ``(row_number, record)`` of a CSV or JSON-lines feed (told apart by its first bytes);
    ``record`` is a dict of the feed's keys, or a message if the row cannot be read as one.

    Raises:
        errors.ImportFileUnreadable: as ``importing.csv_rows``; or a JSON-lines file not UTF-8.
    """
    start = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    stream.seek(0)
    if not start.startswith(b"{"):
        header = _csv_header(stream)
        for row, fields in importing.csv_rows(stream, header=header):
            if len(fields) != len(header):
                yield row, f"Expected {len(header)} fields ({','.join(header)}), found {len(fields)}."
                continue
            if importing.has_nul(fields):
                yield row, importing.NUL_MESSAGE
                continue
            record: dict = dict(zip(header, fields, strict=True))
            if ACTIVE in record:
                try:
                    record[ACTIVE] = _csv_flag(record[ACTIVE])
                except ValueError as exc:
                    yield row, str(exc)
                    continue
            yield row, record
        return
    row = 0
    try:
        for raw in stream:
            row += 1
            line = raw.decode("utf-8").removeprefix("\ufeff").strip()
            if not line:
                continue
            try:
                record = bounded_json.loads(line)
            except bounded_json.JSONRefused as exc:
                yield row, str(exc)
                continue
            except ValueError as exc:
                yield row, f"Not a JSON object: {exc}."
                continue
            yield row, record if isinstance(record, dict) else "Not a JSON object."
    except UnicodeDecodeError as exc:
        raise errors.ImportFileUnreadable(f"The file is not UTF-8 text (row {row}): {exc.reason}.") from exc


def _csv_header(stream: IO[bytes]) -> tuple[str, ...]:
    """
    The header the CSV in ``stream`` has: ``HEADER_WITH_ACTIVE`` if its first line is that, else
    ``HEADER`` (which ``importing.csv_rows`` then insists on). The stream is rewound.
    """
    first = stream.readline(64 * 1024)
    stream.seek(0)
    try:
        fields = next(csv.reader([first.decode("utf-8-sig")]), [])
    except (UnicodeDecodeError, csv.Error):
        return HEADER  # ``csv_rows`` says what is wrong with it
    return HEADER_WITH_ACTIVE if [field.strip() for field in fields] == list(HEADER_WITH_ACTIVE) else HEADER


def _csv_flag(value: str) -> bool:
    """
    The CSV ``active`` column as a boolean: ``true``/``1``/``yes`` or empty, ``false``/``0``/``no``.

    Raises:
        ValueError: any other value; the message is the row's error.
    """
    if value.lower() in CSV_TRUE:
        return True
    if value.lower() in CSV_FALSE:
        return False
    raise ValueError(f"active must be true or false (or 1/0, yes/no; empty = true), not {echo(value)}.")


def _json_flag(value: object) -> bool:
    """
    The JSON ``active`` key as a boolean (absent or null = true).

    Raises:
        ValueError: not a JSON boolean (``"false"`` and ``0`` included); the message is the row's error.
    """
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError(f"active must be a JSON boolean (true or false), not {json.dumps(value)[:100]}.")
    return value


def _text(record: dict, key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {echo(value)}.")
    return value.strip()


def _valid_rows(rows, report: importing.ImportReport):
    """Yield ``(row, fields)`` of the rows that pass the checks made without the database."""
    first_sku: dict[str, int] = {}
    products: dict[str, tuple[int, tuple]] = {}
    for row, record in rows:
        report.rows_total += 1
        if isinstance(record, str):
            report.reject(row, record)
            continue
        try:
            fields = {key: _text(record, key) for key in HEADER if key != "attributes"}
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        missing = [key for key in REQUIRED if not fields[key]]
        if missing:
            report.reject(row, f"Missing {', '.join(missing)}.")
            continue
        try:
            # A CSV row's flag is a bool already (``_feed_rows``); a JSON line's is as given.
            fields[ACTIVE] = _json_flag(record.get(ACTIVE))
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        attributes = record.get("attributes")
        if isinstance(attributes, str):
            try:
                attributes = bounded_json.loads(attributes) if attributes.strip() else {}
            except bounded_json.JSONRefused as exc:
                report.reject(row, f"attributes: {exc}")
                continue
            except ValueError as exc:
                report.reject(row, f"attributes is not JSON: {exc}.")
                continue
        attributes = {} if attributes is None else attributes
        if not isinstance(attributes, dict):
            report.reject(row, "attributes must be a JSON object (attribute code to value).")
            continue
        fields["attributes"] = attributes
        sku, slug = fields["sku"], fields["product_slug"]
        if sku in first_sku:
            report.reject(
                row, f"Duplicate of row {first_sku[sku]} (SKU {echo(sku)}); only the first is applied."
            )
            continue
        product = (fields["product_name"], fields["category"], fields["description"], _canonical(attributes))
        first_row, first_product = products.setdefault(slug, (row, product))
        if first_product != product:
            report.reject(
                row,
                f"Product {echo(slug)} has another name, category, description or attributes in row "
                f"{first_row}; the rows of one product must agree.",
            )
            continue
        first_sku[sku] = row
        yield row, fields


def _canonical(attributes: dict) -> str:
    return json.dumps(attributes, sort_keys=True, default=str)


def _apply(chunk: list[tuple[int, dict]], report: importing.ImportReport) -> None:
    """Check the chunk's products against the catalog, upsert the valid rows, count and report."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    for row, fields in chunk:
        groups.setdefault(fields["product_slug"], []).append((row, fields))
    product_rows = [_product_row(rows) for rows in groups.values()]
    problems = catalog_api.check_products(rows=product_rows)
    valid: list[ProductRow] = []
    applied = 0
    for product_row, rows, product_problems in zip(product_rows, groups.values(), problems, strict=True):
        if product_problems.product:
            for row, _ in rows:
                report.reject(row, " ".join(product_problems.product))
            continue
        for row, fields in rows:
            if fields["sku"] in product_problems.skus:
                report.reject(row, product_problems.skus[fields["sku"]])
            else:
                applied += 1
        variants = tuple(v for v in product_row.variants if v.sku not in product_problems.skus)
        if variants:
            valid.append(
                ProductRow(
                    slug=product_row.slug,
                    name=product_row.name,
                    category_slug=product_row.category_slug,
                    description=product_row.description,
                    attributes=product_row.attributes,
                    variants=variants,
                )
            )
    if valid:
        catalog_api.upsert_products(rows=valid)
    report.rows_applied += applied


def _product_row(rows: list[tuple[int, dict]]) -> ProductRow:
    first = rows[0][1]
    return ProductRow(
        slug=first["product_slug"],
        name=first["product_name"],
        category_slug=first["category"],
        description=first["description"],
        attributes=first["attributes"],
        variants=tuple(
            VariantRow(
                sku=fields["sku"],
                name=fields["variant_name"] or fields["product_name"],
                is_active=fields[ACTIVE],
            )
            for _, fields in rows
        ),
    )
