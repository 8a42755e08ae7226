"""
The toolkit every file import (prices, products, stock levels) is built from: checking an upload
before it is stored, reading a CSV as a stream of numbered rows, collecting a job's report
(counts, and the first 1,000 errors with their row numbers), saving progress, and moving an
``ImportJob`` through its statuses.

A report stays small whatever the file holds: it keeps the first ``MAX_ERRORS`` errors (every
rejected row is counted in ``rows_rejected``), a message quotes at most 100 characters of a
value (``shop.kernel.text.echo``: ``'12345…' (120,000 characters)``) and is cut to
``MAX_MESSAGE_CHARS`` whatever it quotes. A field holding a NUL character rejects its row
(``has_nul``): PostgreSQL's text cannot hold one.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row row 2.
Blank lines are skipped (not counted) but keep their number, so a reported row is the one a
person finds in the file.

A job moves ``queued`` → ``running`` → ``done`` or ``failed``. ``job_claim`` takes a ``queued``
job, and also a ``running`` one (a worker died in the middle; the task was delivered again,
late acknowledgement), which then starts over from the first row with a fresh report: an import
applies values, so applying the rows of the first attempt again changes nothing. A ``done`` or
``failed`` job is never claimed again.
"""

import codecs
import csv
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, TypeVar

from django.db import transaction
from django.utils import timezone

from integrations import errors, metrics
from integrations.models import ImportJob
from shop.kernel.text import shorten

logger = logging.getLogger(__name__)

MAX_ERRORS = 1000
MAX_MESSAGE_CHARS = 300
NUL_MESSAGE = "The row holds a NUL character, which text cannot hold."
_HEAD_BYTES = 64 * 1024
T = TypeVar("T")


@dataclass
class ImportReport:
    """The counts and errors of one run; ``errors`` keeps the first ``MAX_ERRORS``."""

    rows_total: int = 0
    rows_applied: int = 0
    rows_rejected: int = 0
    errors: list[dict] = field(default_factory=list)

    def reject(self, row: int, message: str) -> None:
        """
        Count a rejected row and keep its error (cut to ``MAX_MESSAGE_CHARS``) while fewer than
        ``MAX_ERRORS`` are kept.
        """
        self.rows_rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "message": shorten(message, MAX_MESSAGE_CHARS)})


def has_nul(values: Iterable) -> bool:
    """Whether one of the text ``values`` (a row's fields) holds a NUL character."""
    return any(isinstance(value, str) and "\x00" in value for value in values)


def check_csv_upload(upload, *, header: Sequence[str], max_bytes: int) -> None:
    """
    Refuse an upload that cannot be a CSV import of ``header`` before it is stored, reading only
    its first line and the start of the next.

    Raises:
        errors.ImportFileInvalid: ``too_large`` (more than ``max_bytes``), ``empty`` (no bytes or no
            data row), ``not_csv`` (not a ``.csv`` file or not UTF-8 text) or ``bad_header``
            (the first line is not exactly ``header``).
    """
    expected = ",".join(header)
    if upload.size is not None and upload.size > max_bytes:
        raise errors.FileTooLarge(f"The file is larger than {max_bytes:,} bytes.")
    if not upload.size:
        raise errors.FileEmpty("The file is empty.")
    name = (upload.name or "").lower()
    content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if not name.endswith(".csv") and content_type != "text/csv":
        raise errors.NotCsv("Upload a .csv file (text/csv).")
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    upload.seek(0)
    if b"\x00" in head:
        raise errors.NotCsv("The file is not text.")
    # An incremental decoder tolerates a character cut at the end of the sampled bytes.
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head)
    except UnicodeDecodeError:
        raise errors.NotCsv("The file is not UTF-8 text.") from None
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first != expected:
        raise errors.BadHeader(f"The first line must be exactly {expected!r}, not {first[:100]!r}.")
    if not any(line.strip() for line in lines[1:]):
        raise errors.FileEmpty("The file has a header but no rows.")


def csv_rows(stream: IO[bytes], *, header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """
    Yield ``(row_number, fields)`` for every non-blank data row of the CSV in ``stream`` (UTF-8,
    an optional BOM), reading it as a stream: never the whole file in memory. Fields are
    stripped of surrounding blanks.

    Raises:
        errors.ImportFileUnreadable: the header is not ``header``, or the file is not UTF-8 or not CSV.
    """
    reader = csv.reader(_decoded_lines(stream), strict=True)
    row_number = 0
    try:
        first = next(reader, None)
        row_number = 1
        if first is None or [value.strip() for value in first] != list(header):
            raise errors.ImportFileUnreadable(f"The first line must be exactly {','.join(header)!r}.")
        for fields in reader:
            row_number += 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            yield row_number, [value.strip() for value in fields]
    except UnicodeDecodeError as exc:
        raise errors.ImportFileUnreadable(
            f"The file is not UTF-8 text (after row {row_number}): {exc.reason}."
        ) from exc
    except csv.Error as exc:
        raise errors.ImportFileUnreadable(
            f"The file is not valid CSV (after row {row_number}): {exc}."
        ) from exc


def _decoded_lines(stream: IO[bytes]) -> Iterator[str]:
    """The lines of ``stream`` decoded one by one, so that a decoding error names its place."""
    first = True
    for raw in stream:
        line = raw.decode("utf-8")
        if first:
            line, first = line.removeprefix("\ufeff"), False
        yield line


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of up to ``size`` consecutive items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def job_create(*, kind: str, upload, created_by_id: int | None) -> ImportJob:
    """Store ``upload`` in the default storage (MEDIA_ROOT or the bucket) and record a ``queued`` job."""
    job = ImportJob(kind=kind, original_name=(upload.name or "")[:255], created_by_id=created_by_id)
    job.file.save(f"{kind}-{job.pk}.csv", upload, save=False)
    job.full_clean()
    job.save()
    return job


def job_file_open(job: ImportJob) -> IO[bytes]:
    """
    Open the job's stored file for reading through the default storage (a folder every process
    sees, or a bucket), never by a local path.

    Raises:
        errors.ImportFileMissing: the storage has no such file: it was deleted, or the worker does not
            see the storage the web server stored it in (a MEDIA_ROOT of its own).
    """
    if not job.file:
        raise errors.ImportFileMissing("The job has no file.")
    try:
        return job.file.open("rb")
    except FileNotFoundError:
        raise errors.ImportFileMissing(
            f"The uploaded file {job.file.name!r} is missing from the file storage: it was deleted, "
            "or this worker does not see the storage the upload went to (every web and worker "
            "process needs the same MEDIA_ROOT or bucket). Upload the file again."
        ) from None


def job_claim(*, job_id: uuid.UUID | str, kind: str) -> ImportJob | None:
    """
    Move a ``queued`` (or a ``running`` one left by a dead worker) job of ``kind`` to
    ``running`` with a fresh report, and return it; None if there is nothing to run (unknown,
    ``done`` or ``failed``). The row lock makes two deliveries of one task take turns.
    """
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, kind=kind, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
            .first()
        )
        if job is None:
            return None
        if job.status == ImportJob.Status.RUNNING:
            logger.warning("Import %s was left running (a worker died?); starting it over.", job.pk)
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.finished_at = None
        job.failure = ""
        _copy_report(job, ImportReport())
        job.save()
    return job


def job_progress(job: ImportJob, report: ImportReport) -> None:
    """Save the report so far (after each chunk), so that staff watch the job advance."""
    _copy_report(job, report)
    job.save(update_fields=["rows_total", "rows_applied", "rows_rejected", "errors"])


def job_finish(job: ImportJob, report: ImportReport) -> None:
    """Save the final report and mark the job ``done``."""
    _copy_report(job, report)
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    transaction.on_commit(lambda: metrics.import_finished(job))


def job_fail(job: ImportJob, report: ImportReport, reason: str) -> None:
    """Save the report so far and mark the job ``failed`` with ``reason`` (rows applied stay)."""
    _copy_report(job, report)
    job.status = ImportJob.Status.FAILED
    job.failure = shorten(reason, 2000)
    job.finished_at = timezone.now()
    job.save()
    transaction.on_commit(lambda: metrics.import_finished(job))


def job_run(
    *,
    job_id: uuid.UUID | str,
    kind: str,
    chunk_rows: int,
    rows: Callable[[IO[bytes], ImportReport], Iterable],
    apply: Callable[[list, ImportReport], None],
) -> ImportJob | None:
    """
    Run a queued import job of ``kind`` to its end: ``rows(stream, report)`` yields the rows that
    pass the checks made without the database (rejecting the others on ``report``), ``apply``
    writes a chunk of them, and progress is saved after each chunk. The job ends ``done`` with its
    report, or ``failed`` with the reason if the file is missing or cannot be read (chunks
    applied before stay applied). A job that is already ``done`` or ``failed`` is left alone
    (returns None), so running the task twice is harmless.
    """
    job = job_claim(job_id=job_id, kind=kind)
    if job is None:
        return None
    report = ImportReport()
    try:
        stream = job_file_open(job)
    except errors.ImportFileMissing as exc:
        logger.error("%s import %s failed: %s", kind, job.pk, exc)
        job_fail(job, report, str(exc))
        return job
    try:
        with stream:
            for chunk in chunked(rows(stream, report), chunk_rows):
                apply(chunk, report)
                job_progress(job, report)
    except (errors.ImportFileUnreadable, OSError) as exc:
        logger.warning("%s import %s failed: %s", kind, job.pk, exc)
        job_fail(job, report, f"The file cannot be read: {exc}")
        return job
    except Exception as exc:
        job_fail(job, report, f"Unexpected error: {type(exc).__name__}: {exc}")
        raise
    job_finish(job, report)
    logger.info(
        "%s import %s done: %s rows, %s applied, %s rejected",
        kind,
        job.pk,
        report.rows_total,
        report.rows_applied,
        report.rows_rejected,
    )
    return job


def _copy_report(job: ImportJob, report: ImportReport) -> None:
    job.rows_total = report.rows_total
    job.rows_applied = report.rows_applied
    job.rows_rejected = report.rows_rejected
    job.errors = sorted(report.errors, key=lambda error: error["row"])
