"""
Benchmark: a 100,000-row price import on PostgreSQL, and checkout completion latency while it runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop .venv/bin/python benchmarks/price_import.py

``DATABASE_URL`` names the server (127.0.0.1 or localhost only); the benchmark works in a database
of its own (``--database``, default ``pricebench``), created at the start and dropped at the end,
so the shop's data is never touched. With ``REDIS_URL`` the catalog cache is Redis (its keys under
the prefix ``pricebench``); Celery messages go to an in-memory broker (no worker runs: the outbox
keeps the events).

What it does:
1. migrates the database and seeds a catalog of at least ``--rows`` SKUs (``seed_demo --no-stock``)
   plus stock for the SKUs the checkouts buy;
2. per run (``--runs``, default 3): writes a CSV that gives every SKU a new price (so every row is
   a change, the worst case: one ``PriceChanged`` each), measures ``--completions`` sequential
   checkout completions idle, then runs the import in a separate process (as a worker would,
   so that it does not share this process's interpreter lock) and completes checkouts in this
   process until the import ends;
3. prints the figures of each run and the median over the runs.

A checkout completion is timed from the request to the response (``POST .../complete/`` through
the Django test client); preparing the checkout (cart, address, shipping) is not timed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import bench_database, seed_skus, setup_django

CACHE_KEY_PREFIX = "pricebench"


def run_import_child(job_id: str) -> None:
    """Child mode: run one import job as the worker would and print its figures as JSON."""
    from integrations.models import ImportJob
    from integrations.services import price_import

    started = time.perf_counter()
    price_import.price_import_run(job_id=job_id)
    seconds = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job_id)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "status": job.status,
                "rows_total": job.rows_total,
                "rows_applied": job.rows_applied,
                "rows_rejected": job.rows_rejected,
                "failure": job.failure,
            }
        )
    )


def seed(rows: int, checkout_skus: int) -> tuple[list[str], list[str]]:
    from catalog.models import Variant  # read only, to count what was seeded
    from inventory import api as inventory_api

    started = time.perf_counter()
    skus = seed_skus(rows)
    inventory_api.ensure_warehouse(code="MAIN", name="Main warehouse")
    from catalog import api as catalog_api

    variants = catalog_api.get_variants(skus=skus[:1000])
    buyable = [sku for sku in skus[:1000] if variants[sku].is_sellable][:checkout_skus]
    for sku in buyable:
        inventory_api.set_on_hand(sku=sku, warehouse="MAIN", on_hand=1_000_000, reason="receipt")
    print(f"seeded {Variant.objects.count():,} SKUs in {time.perf_counter() - started:.1f} s", flush=True)
    return skus, buyable


def write_csv(path: Path, skus: list[str], run: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write("sku,amount,currency\n")
        for index, sku in enumerate(skus):
            file.write(f"{sku},{(index % 9000) + 1 + run}.{run:02d},EUR\n")


class Buyer:
    """Completes checkouts one after the other through the Django test client."""

    ADDRESS = {
        "name": "Ada Lovelace",
        "line1": "Unter den Linden 1",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
    }

    def __init__(self, skus: list[str]):
        from rest_framework.test import APIClient

        self.client = APIClient()
        self.skus = skus
        self.count = 0
        self.failures: list[str] = []

    def _ready_checkout(self) -> str:
        sku = self.skus[self.count % len(self.skus)]
        token = self.client.post("/api/v1/carts/", {}, format="json").json()["token"]
        added = self.client.post(f"/api/v1/carts/{token}/lines/", {"sku": sku, "quantity": 1}, format="json")
        if added.status_code != 201:
            raise RuntimeError(f"adding to the cart failed: {added.content!r}")
        checkout_id = self.client.post("/api/v1/checkouts/", {"cart_token": token}, format="json").json()[
            "id"
        ]
        updated = self.client.patch(
            f"/api/v1/checkouts/{checkout_id}/",
            {"email": "ada@example.com", "shipping_address": self.ADDRESS, "shipping_method": "standard"},
            format="json",
        )
        if updated.status_code != 200:
            raise RuntimeError(f"preparing the checkout failed: {updated.content!r}")
        return checkout_id

    def complete_one(self) -> float:
        checkout_id = self._ready_checkout()
        self.count += 1
        started = time.perf_counter()
        response = self.client.post(
            f"/api/v1/checkouts/{checkout_id}/complete/",
            {"payment_token": "tok_success"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"bench-{self.count}-{time.time_ns()}",
        )
        seconds = time.perf_counter() - started
        if response.status_code != 201:
            self.failures.append(f"{response.status_code}: {response.content[:200]!r}")
        return seconds


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def one_run(run: int, skus: list[str], buyer: Buyer, completions: int, workdir: Path, timeout: float) -> dict:
    from django.core.files import File

    from integrations.models import ImportJob
    from integrations.services import importing

    csv_path = workdir / f"prices-{run}.csv"
    write_csv(csv_path, skus, run)
    with csv_path.open("rb") as handle:
        job = importing.job_create(
            kind=ImportJob.Kind.PRICES, upload=File(handle, name=csv_path.name), created_by_id=None
        )

    idle = [buyer.complete_one() for _ in range(completions)]

    child = subprocess.Popen(  # noqa: S603 - this script, with a job id it created
        [sys.executable, __file__, "--import-job", str(job.pk)],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        text=True,
    )
    busy: list[float] = []
    deadline = time.monotonic() + timeout
    while child.poll() is None:
        if time.monotonic() > deadline:
            child.kill()
            raise SystemExit(f"the import took longer than {timeout:.0f} s")
        busy.append(buyer.complete_one())
    output = child.stdout.read().strip().splitlines()
    if child.returncode != 0 or not output:
        raise SystemExit(f"the import process failed ({child.returncode})")
    result = json.loads(output[-1])
    if result["status"] != "done" or result["rows_applied"] != len(skus):
        raise SystemExit(f"the import did not apply every row: {result}")
    figures = {
        "import_seconds": result["seconds"],
        "rows_per_second": result["rows_applied"] / result["seconds"],
        "idle_median_ms": statistics.median(idle) * 1000,
        "idle_p95_ms": p95(idle) * 1000,
        "busy_median_ms": statistics.median(busy) * 1000 if busy else float("nan"),
        "busy_p95_ms": p95(busy) * 1000 if busy else float("nan"),
        "busy_completions": len(busy),
    }
    print(
        f"run {run}: import {result['rows_applied']:,} rows in {figures['import_seconds']:.1f} s "
        f"({figures['rows_per_second']:,.0f} rows/s); checkout completion idle median "
        f"{figures['idle_median_ms']:.0f} ms p95 {figures['idle_p95_ms']:.0f} ms; during the import "
        f"median {figures['busy_median_ms']:.0f} ms p95 {figures['busy_p95_ms']:.0f} ms "
        f"({len(busy)} completions)",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="pricebench", help="The benchmark's own database (dropped at the end)."
    )
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows, one per SKU (default 100,000).")
    parser.add_argument(
        "--runs", type=int, default=3, help="Import runs; the median is reported (default 3)."
    )
    parser.add_argument(
        "--completions", type=int, default=50, help="Idle checkout completions per run (default 50)."
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="Seconds an import may take before giving up."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the database (for a look afterwards).")
    parser.add_argument("--import-job", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.import_job:  # child mode: DATABASE_URL already names the benchmark database
        setup_django(os.environ["DATABASE_URL"], cache_key_prefix=CACHE_KEY_PREFIX)
        run_import_child(args.import_job)
        return

    with bench_database(args.database, cache_key_prefix=CACHE_KEY_PREFIX, keep=args.keep):
        skus, buyable = seed(args.rows, checkout_skus=20)
        buyer = Buyer(buyable)
        with tempfile.TemporaryDirectory(prefix="pricebench-") as workdir:
            runs = [
                one_run(run, skus, buyer, args.completions, Path(workdir), args.timeout)
                for run in range(1, args.runs + 1)
            ]
        if buyer.failures:
            print(f"FAILED checkout completions: {len(buyer.failures)}, e.g. {buyer.failures[:3]}")
        summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        ratio_median = summary["busy_median_ms"] / summary["idle_median_ms"]
        ratio_p95 = summary["busy_p95_ms"] / summary["idle_p95_ms"]
        print(
            f"\nmedian of {len(runs)} run(s), {args.rows:,} rows: import {summary['import_seconds']:.1f} s "
            f"({summary['rows_per_second']:,.0f} rows/s); checkout completion idle median "
            f"{summary['idle_median_ms']:.0f} ms / p95 {summary['idle_p95_ms']:.0f} ms, during the "
            f"import median {summary['busy_median_ms']:.0f} ms / p95 {summary['busy_p95_ms']:.0f} ms "
            f"(x{ratio_median:.2f} / x{ratio_p95:.2f}); failed completions: {len(buyer.failures)}"
        )


if __name__ == "__main__":
    main()
