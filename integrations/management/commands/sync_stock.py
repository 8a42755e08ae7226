"""``manage.py sync_stock FILE``: apply an ERP stock feed (CSV or JSON lines) and print the report."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from integrations.services import stock_sync


class Command(BaseCommand):
    help = (
        "Apply a stock-level feed (CSV with the header sku,warehouse,on_hand, or JSON lines with "
        "those keys) through the inventory, as the ERP sync does, and print the job's report. "
        "Idempotent: the same feed twice changes nothing the second time. With --queue the feed "
        "is handed to a worker (task integrations.stock_sync_run) instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The feed: .csv, or .jsonl/.ndjson for JSON lines.")
        parser.add_argument("--queue", action="store_true", help="Let a worker apply it; print the job id.")

    def handle(self, *args, file: str, queue: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        with path.open("rb") as handle:
            job = stock_sync.stock_sync_create(
                file=File(handle, name=path.name), name=path.name, enqueue=queue
            )
        if queue:
            self.stdout.write(f"Stock sync {job.id} queued.")
            return
        job = stock_sync.stock_sync_apply(str(job.id))
        self.stdout.write(
            f"Stock sync {job.id}: {job.status}; rows {job.rows_total}, applied {job.rows_applied}, "
            f"rejected {job.rows_rejected}."
        )
        for error in job.errors:
            self.stdout.write(f"  row {error['row']}: {error['message']}")
        if job.rows_rejected > len(job.errors):
            self.stdout.write(f"  ... and {job.rows_rejected - len(job.errors)} more.")
        if job.status == job.Status.FAILED:
            raise CommandError(f"Stock sync failed: {job.failure}")
