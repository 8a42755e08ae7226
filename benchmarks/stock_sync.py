"""
Benchmark: a 50,000-row ERP stock feed applied by the stock sync job on PostgreSQL, then again.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop .venv/bin/python benchmarks/stock_sync.py

``DATABASE_URL`` names the server (127.0.0.1 or localhost only); the benchmark works in a database
of its own (``--database``, default ``stocksyncbench``), created at the start and dropped at the
end, so the shop's data is never touched. With ``REDIS_URL`` the catalog cache is Redis (its keys
under the prefix ``stocksyncbench``); Celery messages go to an in-memory broker (no worker runs:
the outbox keeps the ``StockChanged`` events).

What it does:
1. migrates the database, seeds a catalog of at least ``--skus`` SKUs (``seed_demo --no-stock``),
   ensures the warehouse ``MAIN``, and applies a first feed (not counted: it creates the stock
   rows, and its time is printed for information), then ``ANALYZE`` (what autovacuum would do a
   minute later), so that every run is planned on the same statistics;
2. per run (``--runs``, default 3): writes a CSV ``sku,warehouse,on_hand`` that gives every SKU a
   new level (every row a change: a ledger row and a ``StockChanged`` each), stores it as a job
   with ``stock_sync.stock_sync_create(..., enqueue=False)`` and applies it in this process with
   ``stock_sync.stock_sync_apply(job_id)``, as the worker's task does; checks the levels through
   ``inventory.api``; then applies the same feed again as a new job (no change, no ledger row);
3. prints the figures of each run and the median over the runs. A rejected row, or a job that does
   not end ``done``, stops the benchmark.

The time is that of ``stock_sync_apply`` alone (what the worker's task runs), not of storing the
file.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import bench_database, seed_skus

CACHE_KEY_PREFIX = "stocksyncbench"
WAREHOUSE = "MAIN"


def level(index: int, run: int) -> int:
    """The level of the ``index``-th SKU in ``run``: 1..97, plus 100 a run, so always a change."""
    return 1 + index % 97 + 100 * run


def write_feed(path: Path, skus: list[str], run: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write("sku,warehouse,on_hand\n")
        for index, sku in enumerate(skus):
            file.write(f"{sku},{WAREHOUSE},{level(index, run)}\n")


def apply_feed(path: Path) -> tuple[float, object]:
    """Store the feed as a stock job and apply it as the worker's task does; (seconds, job)."""
    from django.core.files import File

    from integrations.services import stock_sync

    with path.open("rb") as handle:
        job = stock_sync.stock_sync_create(file=File(handle, name=path.name), name=path.name, enqueue=False)
    started = time.perf_counter()
    applied = stock_sync.stock_sync_apply(str(job.pk))
    seconds = time.perf_counter() - started
    if applied is None:
        raise SystemExit(f"the stock sync job {job.pk} was not run (already done or failed?)")
    return seconds, applied


def check_job(job, rows: int, what: str) -> None:
    """Stop the benchmark unless the job ended done with every row applied and none rejected."""
    if (
        job.status != job.Status.DONE
        or job.rows_total != rows
        or job.rows_applied != rows
        or job.rows_rejected
    ):
        raise SystemExit(
            f"{what}: the stock sync did not apply every row: status {job.status}, rows {job.rows_total:,}, "
            f"applied {job.rows_applied:,}, rejected {job.rows_rejected:,} (expected {rows:,} applied); "
            f"failure {job.failure!r}; first errors {job.errors[:5]}"
        )


def check_levels(skus: list[str], run: int) -> None:
    """Stop the benchmark unless inventory has every SKU at the level the feed of ``run`` set."""
    from inventory import api as inventory_api

    for start in range(0, len(skus), 10_000):
        chunk = skus[start : start + 10_000]
        availability = inventory_api.get_availability(skus=chunk)
        wrong = [
            sku
            for index, sku in enumerate(chunk, start=start)
            if availability[sku].on_hand != level(index, run)
        ]
        if wrong:
            raise SystemExit(f"run {run}: {len(wrong):,} SKUs not at the feed's level, e.g. {wrong[:5]}")


def seed(skus_wanted: int, workdir: Path) -> list[str]:
    from django.db import connection

    from catalog.models import Variant  # read only, to count what was seeded
    from inventory import api as inventory_api

    started = time.perf_counter()
    skus = seed_skus(skus_wanted)
    inventory_api.ensure_warehouse(code=WAREHOUSE, name="Main warehouse")
    print(f"seeded {Variant.objects.count():,} SKUs in {time.perf_counter() - started:.1f} s", flush=True)

    path = workdir / "stock-0.csv"
    write_feed(path, skus, run=0)
    seconds, job = apply_feed(path)
    check_job(job, len(skus), "first feed")
    check_levels(skus, run=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"first feed (creates the {len(skus):,} stock rows; not counted): {seconds:.1f} s "
        f"({len(skus) / seconds:,.0f} rows/s)",
        flush=True,
    )
    return skus


def one_run(run: int, skus: list[str], workdir: Path) -> dict:
    path = workdir / f"stock-{run}.csv"
    write_feed(path, skus, run)
    changed_seconds, changed = apply_feed(path)
    check_job(changed, len(skus), f"run {run}, every row a change")
    check_levels(skus, run)
    same_seconds, same = apply_feed(path)
    check_job(same, len(skus), f"run {run}, the same feed again")
    check_levels(skus, run)
    figures = {
        "changed_seconds": changed_seconds,
        "changed_rows_per_second": len(skus) / changed_seconds,
        "same_seconds": same_seconds,
        "same_rows_per_second": len(skus) / same_seconds,
    }
    print(
        f"run {run}: every row a change {figures['changed_seconds']:.1f} s "
        f"({figures['changed_rows_per_second']:,.0f} rows/s; job {changed.status}, applied "
        f"{changed.rows_applied:,}, rejected {changed.rows_rejected:,}); the same feed again "
        f"{figures['same_seconds']:.1f} s ({figures['same_rows_per_second']:,.0f} rows/s; job "
        f"{same.status}, applied {same.rows_applied:,}, rejected {same.rows_rejected:,})",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="stocksyncbench", help="The benchmark's own database (dropped at the end)."
    )
    parser.add_argument(
        "--skus", type=int, default=50_000, help="Feed rows, one per SKU, warehouse MAIN (default 50,000)."
    )
    parser.add_argument("--runs", type=int, default=3, help="Runs; the median is reported (default 3).")
    parser.add_argument("--keep", action="store_true", help="Keep the database (for a look afterwards).")
    args = parser.parse_args()
    if args.runs < 1 or args.skus < 1:
        parser.error("--runs and --skus must be at least 1")

    with bench_database(args.database, cache_key_prefix=CACHE_KEY_PREFIX, keep=args.keep):
        from django.conf import settings

        with tempfile.TemporaryDirectory(prefix="stocksyncbench-") as workdir:
            skus = seed(args.skus, Path(workdir))
            runs = [one_run(run, skus, Path(workdir)) for run in range(1, args.runs + 1)]
        summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        changed_each = " / ".join(f"{run['changed_seconds']:.1f}" for run in runs)
        same_each = " / ".join(f"{run['same_seconds']:.1f}" for run in runs)
        print(
            f"\nmedian of {len(runs)} run(s), {len(skus):,} rows, chunks of "
            f"{settings.STOCK_SYNC_CHUNK_ROWS:,}: every row a change {summary['changed_seconds']:.1f} s "
            f"({changed_each} s; {summary['changed_rows_per_second']:,.0f} rows/s); the same feed again "
            f"{summary['same_seconds']:.1f} s ({same_each} s; "
            f"{summary['same_rows_per_second']:,.0f} rows/s); "
            f"every job done, no row rejected"
        )


if __name__ == "__main__":
    main()
