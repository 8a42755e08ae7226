"""
Benchmark: building the product feed (export) of 100,000 demo products with stock on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop .venv/bin/python benchmarks/export_feed.py

``DATABASE_URL`` names the server (127.0.0.1 or localhost only); the benchmark works in a database
of its own (``--database``, default ``exportbench``), created at the start and dropped at the end,
so the shop's data is never touched. With ``REDIS_URL`` the catalog cache is Redis (its keys under
the prefix ``exportbench``); Celery messages go to an in-memory broker (no worker runs: the task
that ``export_create`` sends is never consumed, the benchmark builds the feed itself).

What it does:
1. migrates the database and seeds ``--products`` demo products with their demo stock
   (``seed_demo --products N``: about 100 s for 100,000), then ``ANALYZE`` (what autovacuum would
   do a minute later), so that every run is planned on the same statistics;
2. per run (``--runs``, default 3): creates an export job through ``exports.export_create`` (as the
   API does) and builds it in a separate process with ``exports.export_build(job_id)``, as the
   worker's task does; that process starts fresh, so its max RSS is the build's (with Django),
   not the seed's;
3. prints the figures of each run (seconds, rows, rows/s, file size, max RSS of the building
   process) and the median over the runs.

The time is that of ``export_build`` alone (claim, the feed written to a temporary file, the copy
to the default storage, the job saved), not the process's start. MB are 10^6 bytes.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from common import bench_database, setup_django

CACHE_KEY_PREFIX = "exportbench"


def megabytes(size_bytes: float) -> float:
    return size_bytes / 1_000_000


def build_child(job_id: str, chunk_size: int | None) -> None:
    """Child mode: build one export job as the worker's task does and print its figures as JSON."""
    from django.db import connection

    from integrations.services import exports

    connection.ensure_connection()  # a worker's connection is open already: not part of the time
    # ru_maxrss is in KiB on Linux: the high-water mark of this process, Django loaded.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    options = {} if chunk_size is None else {"chunk_size": chunk_size}
    started = time.perf_counter()
    job = exports.export_build(job_id, **options)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "status": None if job is None else job.status,
                "rows": None if job is None else job.rows,
                "file_bytes": job.file.size if job is not None and job.file else 0,
                "failure": None if job is None else job.failure,
                "rss_before_bytes": rss_before,
                "rss_bytes": rss,
                "chunk_size": chunk_size or exports.CHUNK_SIZE,
            }
        )
    )


def seed(products: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"seeding {products:,} demo products with stock (about 100 s for 100,000) ...", flush=True)
    call_command("seed_demo", "--products", str(products), verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {products:,} products in {time.perf_counter() - started:.1f} s", flush=True)


def one_run(run: int, chunk_size: int | None, timeout: float) -> dict:
    from integrations.services import exports

    job = exports.export_create(format="csv")
    command = [sys.executable, __file__, "--build-job", str(job.pk)]
    if chunk_size is not None:
        command += ["--chunk-size", str(chunk_size)]
    try:
        child = subprocess.run(  # noqa: S603 - this script, with a job id it created
            command, env=os.environ.copy(), stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"the export took longer than {timeout:.0f} s") from None
    output = child.stdout.strip().splitlines()
    if child.returncode != 0 or not output:
        raise SystemExit(f"the export process failed ({child.returncode})")
    result = json.loads(output[-1])
    if result["status"] != "done" or not result["rows"] or not result["file_bytes"]:
        raise SystemExit(f"the export did not end done with rows and a file: {result}")
    figures = {
        "seconds": result["seconds"],
        "rows": result["rows"],
        "rows_per_second": result["rows"] / result["seconds"],
        "file_mb": megabytes(result["file_bytes"]),
        "rss_mb": megabytes(result["rss_bytes"]),
        "rss_before_mb": megabytes(result["rss_before_bytes"]),
        "chunk_size": result["chunk_size"],
    }
    print(
        f"run {run}: {figures['rows']:,} rows in {figures['seconds']:.1f} s "
        f"({figures['rows_per_second']:,.0f} rows/s), {figures['file_mb']:.1f} MB; max RSS of the "
        f"building process {figures['rss_mb']:.0f} MB ({figures['rss_before_mb']:.0f} MB before the build)",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="exportbench", help="The benchmark's own database (dropped at the end)."
    )
    parser.add_argument(
        "--products", type=int, default=100_000, help="Demo products, seeded with stock (default 100,000)."
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="Export runs; the median is reported (default 3)."
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="Rows per chunk, passed to export_build (default: the service's own, as the worker runs it).",
    )
    parser.add_argument(
        "--timeout", type=float, default=900, help="Seconds an export may take before giving up."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the database (for a look afterwards).")
    parser.add_argument("--build-job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.chunk_size is not None and args.chunk_size < 1:
        parser.error("--chunk-size must be at least 1")
    if args.runs < 1 or args.products < 1:
        parser.error("--runs and --products must be at least 1")

    if args.build_job:  # child mode: DATABASE_URL already names the benchmark database
        setup_django(os.environ["DATABASE_URL"], cache_key_prefix=CACHE_KEY_PREFIX)
        build_child(args.build_job, args.chunk_size)
        return

    with bench_database(args.database, cache_key_prefix=CACHE_KEY_PREFIX, keep=args.keep):
        seed(args.products)
        runs = [one_run(run, args.chunk_size, args.timeout) for run in range(1, args.runs + 1)]
        if len({run["rows"] for run in runs}) > 1:
            raise SystemExit(f"the runs wrote different row counts: {[run['rows'] for run in runs]}")
        summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        each = " / ".join(f"{run['seconds']:.1f}" for run in runs)
        print(
            f"\nmedian of {len(runs)} run(s), {args.products:,} products, chunks of "
            f"{runs[0]['chunk_size']:,}: {summary['seconds']:.1f} s ({each} s), {runs[0]['rows']:,} rows "
            f"({summary['rows_per_second']:,.0f} rows/s), {summary['file_mb']:.1f} MB; max RSS of the "
            f"building process {summary['rss_mb']:.0f} MB "
            f"({summary['rss_before_mb']:.0f} MB before the build)"
        )


if __name__ == "__main__":
    main()
