"""
``make loadtest``: the whole shop under load, with a report, invariants and cost per order.

Starts the production-like stack on loopback (``benchmarks.http.stack.ShopStack``: gunicorn with
gunicorn.conf.py, DEBUG off, PostgreSQL, Redis; here with both Celery workers, beat and the ERP
simulator), or uses ``TARGET``; seeds ``PRODUCTS`` demo products if the database holds another
number; runs Locust headless (``loadtest/locustfile.py``) for ``DURATION``; scrapes ``/metrics``
before, every 5 s during and after; samples the CPU time of web, workers, PostgreSQL's backends
and Redis every second; waits for the ERP hand-overs to drain; checks the invariants
(``loadtest.invariants.check``) and writes ``loadtest/reports/<UTC time>/`` (``loadtest.report``).
Exit status 1 when an invariant is broken or a request got a 5xx. Options: loadtest/README.md.
"""

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from loadtest import cpu, report

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
STAFF_EMAIL = "loadtest-staff@example.com"


def seconds(text: str) -> int:
    """``"90"``, ``"90s"``, ``"3m"``, ``"1h"`` -> seconds."""
    match = re.fullmatch(r"(\d+)([smh]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 180, 90s, 3m)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def options(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", default=env("TARGET", ""), help="a running shop (else one is started)")
    parser.add_argument("--duration", type=seconds, default=seconds(env("DURATION") or "180"))
    parser.add_argument("--users", type=int, default=int(env("USERS") or 20))
    parser.add_argument("--shape", choices=("campaign", "steady"), default=env("SHAPE") or "campaign")
    parser.add_argument("--scenario", choices=("default", "erp-down"), default=env("SCENARIO") or "default")
    parser.add_argument("--products", type=int, default=int(env("PRODUCTS") or 20000))
    parser.add_argument("--campaign", default=env("CAMPAIGN") or "loadtest")
    parser.add_argument("--database", default=env("LOADTEST_DB") or "shop_loadtest")
    parser.add_argument("--redis-url", default=env("LOADTEST_REDIS_URL") or "redis://127.0.0.1:6379/12")
    parser.add_argument("--port", type=int, default=int(env("LOADTEST_PORT") or 8440))
    parser.add_argument("--erp-port", type=int, default=int(env("LOADTEST_ERP_PORT") or 8441))
    parser.add_argument("--workers", type=int, default=int(env("WORKERS") or 5))
    parser.add_argument("--erp-url", default=env("ERP_URL") or "", help="with --target: its ERP simulator")
    parser.add_argument("--metrics-token", default=env("METRICS_TOKEN") or "")
    parser.add_argument("--staff-password", default=env("LOADTEST_STAFF_PASSWORD") or "")
    parser.add_argument("--database-url", default=env("LOADTEST_DATABASE_URL") or "", help="with --target")
    parser.add_argument(
        "--reports", type=Path, default=Path(env("REPORTS_DIR") or ROOT / "loadtest" / "reports")
    )
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[loadtest {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


class LoadStack:
    """The stack the run loads: started here (``ShopStack``) or given by ``--target``."""

    def __init__(self, opts: argparse.Namespace):
        self.opts = opts
        self.stack = None
        self.token = opts.metrics_token or secrets.token_urlsafe(24)
        self.staff_password = opts.staff_password or secrets.token_urlsafe(16)
        if opts.target:
            self.base, self.erp_url, self.database_url = (
                opts.target.rstrip("/"),
                opts.erp_url,
                opts.database_url,
            )
            return
        from benchmarks.http.stack import PYTHON as STACK_PYTHON
        from benchmarks.http.stack import ShopStack

        if not (
            opts.database == "shop_loadtest" or opts.database.startswith(("shop_loadtest_", "shop_ltrun"))
        ):
            raise SystemExit(
                f"database {opts.database!r}: only shop_loadtest or shop_loadtest_* (it may be seeded)"
            )
        celery = str(ROOT / ".venv" / "bin" / "celery")
        stack = ShopStack(
            database=opts.database,
            redis_url=opts.redis_url,
            port=opts.port,
            erp_port=opts.erp_port,
            workers=opts.workers,
            work_dir=Path(f"/tmp/shop-loadtest-{opts.port}"),  # noqa: S108 - the run's scratch (logs, var)
            extra_env={
                "METRICS_TOKEN": self.token,
                "METRICS_CAMPAIGNS": opts.campaign,
                # Sign-ups and sign-ins of many customers from one address: the throttle still runs.
                "THROTTLE_AUTH": "100000000/min",
                # Details may change (price imports): the catalog's usual cache time.
                "CATALOG_CACHE_SECONDS": "300",
            },
            extra_commands={
                "worker_bulk": [
                    celery, "-A", "shop", "worker", "--loglevel", "WARNING", "--queues",
                    "prices,exports,housekeeping", "--concurrency", "1", "--hostname", f"bulk{opts.port}@%h",
                ],
                "beat": [
                    celery, "-A", "shop", "beat", "--loglevel", "WARNING",
                    "--schedule", f"/tmp/shop-loadtest-{opts.port}/beat-schedule",  # noqa: S108
                ],
            },
        )  # fmt: skip
        stack.check_database_name = lambda: None  # checked above: the load test's own names
        self.stack, self.python = stack, STACK_PYTHON
        self.base = stack.base
        self.erp_url = f"http://127.0.0.1:{opts.erp_port}"
        self.database_url = f"{stack.pg_server}/{opts.database}"

    def start(self) -> None:
        if not self.stack:
            return
        self.stack.prepare_database(products=self.opts.products, reseed=False, log=log)
        self.stack.manage(
            "shell",
            "-c",
            "from shop.accounts import services; services.staff_user_ensure("
            f"email={STAFF_EMAIL!r}, password={self.staff_password!r}, check_password=False)",
        )
        self.stack.flush_redis()
        self.stack.start()
        log(f"stack up at {self.base} (logs: {self.stack.work_dir}/logs)")

    def stop(self) -> None:
        if self.stack:
            self.stack.stop()

    def pids(self) -> dict[str, list[int]]:
        """The root pid of each process the stack started (their children are found by ``cpu``)."""
        if not self.stack:
            return {}
        return {name: [process.pid] for name, process in self.stack.processes.items()}

    def scrape(self) -> dict[str, float]:
        """``/metrics`` now: the shop's own samples (``shop_*``) by ``report.sample_key``."""
        from prometheus_client.parser import text_string_to_metric_families

        request = urllib.request.Request(  # noqa: S310 - the stack under test
            f"{self.base}/metrics", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            text = response.read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.startswith("shop_") and not sample.name.endswith(("_created", "_bucket")):
                    samples[report.sample_key(sample.name, sample.labels)] = sample.value
        return samples


class Scraper(threading.Thread):
    """Scrapes ``/metrics`` every ``every`` s into ``metrics.jsonl`` until stopped."""

    def __init__(self, stack: LoadStack, path: Path, every: float = 5.0):
        super().__init__(daemon=True)
        self.stack, self.path, self.every = stack, path, every
        self.stopped = threading.Event()

    def once(self) -> dict[str, float] | None:
        try:
            samples = self.stack.scrape()
        except OSError as exc:
            log(f"scrape failed: {exc}")
            return None
        with self.path.open("a") as handle:
            handle.write(json.dumps({"t": time.time(), "samples": samples}) + "\n")
        return samples

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.once()


def wait_for_handovers(scraper: Scraper, *, timeout: float) -> float:
    """Wait until no hand-over is pending or in flight (scraping meanwhile); seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        samples = scraper.once() or {}
        waiting = report.total(samples, "shop_erp_handovers", status="pending") + report.total(
            samples, "shop_erp_handovers", status="in_flight"
        )
        if waiting == 0:
            return time.monotonic() - started
        time.sleep(2)
    log(f"hand-overs still waiting after {timeout:.0f} s")
    return time.monotonic() - started


def run_locust(opts: argparse.Namespace, stack: LoadStack, run_dir: Path) -> tuple[subprocess.Popen, dict]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        LOADTEST_SHAPE=opts.shape,
        LOADTEST_USERS=str(opts.users),
        LOADTEST_DURATION=str(opts.duration),
        LOADTEST_CAMPAIGN=opts.campaign,
        LOADTEST_STAFF_EMAIL=os.environ.get("LOADTEST_STAFF_EMAIL", STAFF_EMAIL),
        LOADTEST_STAFF_PASSWORD=stack.staff_password,
    )
    command = [
        PYTHON, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless",
        "--host", stack.base, "--users", str(opts.users), "--spawn-rate", str(max(1, opts.users // 5)),
        "--run-time", f"{opts.duration}s", "--stop-timeout", "10", "--csv", str(run_dir / "locust"),
        "--csv-full-history", "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    with (run_dir / "locust.log").open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, {"locust (the client)": [process.pid]}


def erp_down_in_background(opts: argparse.Namespace, erp_url: str, meta: dict) -> threading.Thread:
    """``loadtest.faults.erp_down`` from 30 % to 60 % of the run, in a thread; times into ``meta``."""
    from loadtest import faults

    after, length = opts.duration * 0.3, opts.duration * 0.3
    now = time.time()
    meta["fault"] = {"kind": "erp-down", "down_at": now + after, "up_at": now + after + length}

    def target():
        handle = faults.erp_down(erp_url, after_seconds=after, for_seconds=length)
        if hasattr(handle, "join"):
            handle.join()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def check_invariants(stack: LoadStack, since: datetime) -> list[dict] | None:
    if not stack.database_url or not stack.erp_url:
        log("invariants not checked: no database or ERP URL (with TARGET: LOADTEST_DATABASE_URL, ERP_URL)")
        return None
    try:
        from loadtest import invariants
    except ImportError:
        log("invariants not checked: loadtest/invariants.py is missing")
        return None
    found = invariants.check(database_url=stack.database_url, erp_url=stack.erp_url, since=since)
    return [{"kind": v.kind, "detail": v.detail} for v in found]


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = opts.reports / run_id
    run_dir.mkdir(parents=True)
    stack = LoadStack(opts)
    meta = {
        "run_id": run_id,
        "target": stack.base,
        "shape": opts.shape,
        "scenario": opts.scenario,
        "users": opts.users,
        "duration": opts.duration,
        "campaign": opts.campaign,
        "products": opts.products if not opts.target else "?",
    }
    try:
        stack.start()
        scraper = Scraper(stack, run_dir / "metrics.jsonl")
        scraper.once()
        since = datetime.now(UTC)
        meta["started_at"] = time.time()
        process, client_pids = run_locust(opts, stack, run_dir)
        sampler = cpu.Sampler(
            {**stack.pids(), **client_pids}, database=opts.database if stack.stack else None
        )
        sampler.start()
        scraper.start()
        if opts.scenario == "erp-down":
            erp_down_in_background(opts, stack.erp_url, meta)
        log(f"Locust: {opts.shape} shape, {opts.users} users, {opts.duration} s -> {run_dir}")
        process.wait(timeout=opts.duration + 120)
        meta["duration_measured"] = time.time() - meta["started_at"]
        sampler.stop()
        (run_dir / "cpu.json").write_text(json.dumps(sampler.result(), indent=1))
        waited = wait_for_handovers(scraper, timeout=max(60.0, opts.duration * 0.5))
        scraper.stopped.set()
        meta["handover_drain_seconds"] = round(waited, 1)
        violations = check_invariants(stack, since)
        if violations is not None:
            (run_dir / "violations.json").write_text(json.dumps(violations, indent=1))
    finally:
        stack.stop()
    (run_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    summary = report.build(run_dir)
    log(
        f"{summary.orders:.0f} orders ({summary.orders_per_second:.2f}/s), {summary.requests} requests, "
        f"{summary.server_errors} 5xx; report: {run_dir / 'summary.md'}"
    )
    for violation in summary.violations or []:
        log(f"INVARIANT BROKEN {violation['kind']}: {violation['detail']}")
    return 0 if summary.passed else 1


if __name__ == "__main__":
    sys.exit(main())
