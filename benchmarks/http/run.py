"""
``make bench``: the shop's hot paths under load on its production-like stack, side by side with the
peer lab (``PEERS=1``), repetitions interleaved across servers; a Markdown table with the ratios,
written to ``benchmarks/http/results/<UTC time>.md`` with the raw JSON lines beside it.

    .venv/bin/python -m benchmarks.http.run [--peers] [--reps 3] [--duration 15] [--paths detail,list]
        [--compare benchmarks/http/results/<earlier>.md]

Every option has an environment variable (the Makefile passes them): README.md here.
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from benchmarks.http import report
from benchmarks.http.lab import BASH, Lab, command, find_lab_sources, record
from benchmarks.http.lab import WRK as WRK_BIN
from benchmarks.http.purchase_load import new_session
from benchmarks.http.stack import PYTHON, ROOT, ShopStack
from loadtest import cpu

HERE = Path(__file__).resolve().parent
WRK = HERE / "wrk"
API = "/api/v1"
# Words of the demo catalog's product names (catalog/demo_data.py), each in 100-650 of the 10,000
# demo products: every search has a full first page.
SEARCH_WORDS = (
    "bag",
    "classic",
    "trail",
    "light",
    "rope",
    "studio",
    "alpine",
    "shoe",
    "motion",
    "tent",
    "harness",
    "glacier",
    "table",
    "trek",
    "summit",
    "basecamp",
    "puzzle",
    "desk",
    "game",
    "ridge",
    "knife",
    "meadow",
    "socks",
    "helmet",
    "running",
    "canyon",
    "hiking",
    "scout",
    "yoga",
    "headphones",
)


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Side-by-side HTTP benchmark of the shop's hot paths.")
    p.add_argument("--peers", action="store_true", default=_flag("PEERS"), help="also the peer lab (PEERS=1)")
    p.add_argument("--reps", type=int, default=int(_env("REPS", "3")))
    p.add_argument(
        "--duration", type=int, default=int(_env("DURATION", "15")), help="seconds per measurement"
    )
    p.add_argument("--products", type=int, default=int(_env("PRODUCTS", "10000")))
    p.add_argument("--connections", type=int, default=int(_env("CONNECTIONS", "32")), help="wrk -c")
    p.add_argument(
        "--threads", type=int, default=int(_env("CLIENT_THREADS", "8")), help="Python client threads"
    )
    p.add_argument(
        "--paths", default=_env("PATHS", ",".join(report.PATH_KEYS)), help="subset, comma-separated"
    )
    p.add_argument("--workers", type=int, default=int(_env("WORKERS", "5")), help="gunicorn worker processes")
    p.add_argument("--worker-threads", type=int, default=int(_env("THREADS", "1")), help=">1: gthread")
    p.add_argument(
        "--prepared", type=int, default=int(_env("PREPARED", "0")), help="prepared checkouts a rep"
    )
    p.add_argument("--reseed", action="store_true", default=_flag("RESEED"))
    p.add_argument("--database", default=_env("BENCH_DB", "shop_bench"))
    p.add_argument("--redis-url", default=_env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    p.add_argument("--port", type=int, default=int(_env("BENCH_PORT", "8300")))
    p.add_argument("--erp-port", type=int, default=int(_env("BENCH_ERP_PORT", "8399")))
    p.add_argument("--work-dir", type=Path, default=Path(_env("BENCH_DIR", "/tmp/shopbench")))  # noqa: S108
    p.add_argument("--lab", type=Path, default=Path(_env("LAB", "/tmp/lab")))  # noqa: S108
    p.add_argument("--results-dir", type=Path, default=Path(_env("RESULTS_DIR", str(HERE / "results"))))
    p.add_argument(
        "--compare", type=Path, default=Path(os.environ["COMPARE"]) if os.environ.get("COMPARE") else None
    )
    a = p.parse_args(argv)
    a.paths = [key.strip() for key in a.paths.split(",") if key.strip()]
    unknown = set(a.paths) - set(report.PATH_KEYS)
    if unknown:
        p.error(f"unknown PATHS {sorted(unknown)}; known: {','.join(report.PATH_KEYS)}")
    return a


def prepared_count(rates: list[float], duration: int, fixed: int = 0, *, per_second_cap: int = 40) -> int:
    """
    How many checkouts (the shop's) or baskets (Oscar's) to prepare for a completion run: ``fixed``
    if set; before a first run the lab's 600 for 15 s (40 a second); then a fifth more than the best
    rate so far completes in ``duration`` (at least 100, at most ``per_second_cap`` a second: the
    lab's 40 for Oscar's baskets, more for the shop's checkouts once it completes faster), so that
    a run does not run out and no repetition spends a minute preparing what it never completes.
    """
    if fixed:
        return fixed
    if not rates:
        return duration * 40
    return max(100, min(duration * per_second_cap, math.ceil(max(rates) * duration * 1.2)))


class Bench:
    """One run: the shop's stack, the lab, the measurements in interleaved repetitions, the report."""

    def __init__(self, a: argparse.Namespace):
        self.a = a
        self.started = time.monotonic()
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        a.results_dir.mkdir(parents=True, exist_ok=True)
        self.results = a.results_dir / f"{stamp}.jsonl"
        self.markdown = a.results_dir / f"{stamp}.md"
        self.files = a.work_dir / "files"
        self.stack = ShopStack(
            database=a.database,
            redis_url=a.redis_url,
            port=a.port,
            erp_port=a.erp_port,
            workers=a.workers,
            threads=a.worker_threads,
            work_dir=a.work_dir,
        )
        src = find_lab_sources()
        if src is None:
            raise SystemExit("the peer lab's scripts (../shared/bench) are not found: set PEER_LAB=<dir>")
        self.lab = Lab(
            src=src,
            lab=a.lab,
            results=self.results,
            mode="gthread" if a.worker_threads > 1 else "sync",
            workers=a.workers,
            duration=a.duration,
            connections=a.connections,
        )
        self.completion_rates: dict[str, list[float]] = {"shop": [], "oscar": []}

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.0f} s] {message}", flush=True)

    # --- the shop's inputs ------------------------------------------------------------------------
    def prepare_inputs(self) -> None:
        """Pools of SKUs and product slugs, stock topped up, and the paths files of the GET rows."""
        self.files.mkdir(parents=True, exist_ok=True)
        pools = self.stack.data("pools", "--skus", "2000", "--details", "2000", "--out", str(self.files))
        self.log(
            f"pools: {pools['skus']} SKUs in stock (of {pools['sellable']:,} sellable), "
            f"{pools['slugs']} products"
        )
        self.topup()
        self.stack.drain_worker(log=self.log)
        slugs = (self.files / "slugs.txt").read_text(encoding="utf-8").split()
        (self.files / "detail.txt").write_text("".join(f"{API}/catalog/products/{s}/\n" for s in slugs))
        (self.files / "list.txt").write_text("".join(p + "\n" for p in self.list_pages()))
        (self.files / "search.txt").write_text(
            "".join(f"{API}/catalog/products/?search={word}\n" for word in SEARCH_WORDS)
        )
        for name in ("detail", "list", "search"):
            path = (self.files / f"{name}.txt").read_text().split()[0]
            response = requests.get(self.stack.base + path, allow_redirects=False, timeout=30)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code}, not 200")

    def list_pages(self) -> list[str]:
        """Every page of 20 of the product list, by the cursors the list hands out (walked once)."""
        pages = [f"{API}/catalog/products/"]
        session = requests.Session()
        url = self.stack.base + pages[0]
        while True:
            response = session.get(url, timeout=30)
            response.raise_for_status()
            url = response.json()["next"]
            if not url:
                break
            cursor = parse_qs(urlsplit(url).query)["cursor"][0]
            pages.append(f"{API}/catalog/products/?cursor={cursor}")
        self.log(f"list: {len(pages)} pages of 20 (random cursor a request)")
        return pages

    def topup(self) -> None:
        """
        Expired reservations released (as beat's sweep would), then free stock of every pool SKU
        back to 100,000 where under 50,000 (inventory's api).
        """
        result = self.stack.data("topup", "--skus-file", str(self.files / "skus.txt"))
        if result["topped_up"]:
            self.log(f"stock: {result['topped_up']} SKUs topped up to 100,000 free")
        if result["expired_released"]:
            self.log(f"stock: {result['expired_released']} expired reservations released (beat's sweep)")

    def parallel_get(self, paths: list[str], threads: int = 8) -> int:
        """GET each path once (warming the cache); the number of answers that were not 200."""

        def get(chunk: list[str]) -> int:
            session = new_session()
            return sum(session.get(self.stack.base + p, timeout=30).status_code != 200 for p in chunk)

        chunks = [paths[k::threads] for k in range(threads)]
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            return sum(pool.map(get, chunks))

    def create_carts(self, count: int, threads: int = 8) -> Path:
        """``count`` empty carts (untimed), their tokens in a file for the add-to-cart script."""

        def create(n: int) -> list[str]:
            session = new_session()
            return [
                session.post(f"{self.stack.base}{API}/carts/", json={}, timeout=30).json()["token"]
                for _ in range(n)
            ]

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            tokens = [t for chunk in pool.map(create, [math.ceil(count / threads)] * threads) for t in chunk]
        path = self.files / "carts.txt"
        path.write_text("\n".join(tokens) + "\n")
        return path

    # --- the shop's measurements ----------------------------------------------------------------
    def shop_wrk(self, name: str, rep: int, lua: str, **env: str) -> None:
        """The shop's measurement through the lab's lib/wrk.sh (its drain, wrk command and record)."""
        self.lab.wrk(
            name, rep, self.stack.base, str(WRK / lua), DRAIN_URL=f"{self.stack.base}/healthz", **env
        )

    def shop_purchases(self, name: str, rep: int, prepared: int = 0) -> float:
        self.stack.drain_worker(log=self.log)
        self.topup()
        command([BASH, str(self.lab.src / "lib/drain.sh"), f"{self.stack.base}/healthz"], check=True)
        out = self.lab.lab / "wrk" / f"shop_{name.replace(' ', '_')}-r{rep}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        args = [
            "--base",
            self.stack.base,
            "--skus-file",
            str(self.files / "skus.txt"),
            "--threads",
            str(self.a.threads),
            "--duration",
            str(self.a.duration),
            "--out",
            str(out),
        ]
        if prepared:
            args += ["--prepared", str(prepared)]
        # The stack's CPU by process, from the timed part's start until the worker has handled
        # what the run left it: CPU per order, the profile of where an order's cost goes.
        sampler = cpu.Sampler(
            {name: [process.pid] for name, process in self.stack.processes.items()},
            database=self.a.database,
            every=0.5,
        )
        sampler.start()
        command(
            [PYTHON, "-m", "benchmarks.http.purchase_load", *args],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result = json.loads(out.read_text())
        self.stack.drain_worker(log=self.log)
        sampler.stop()
        result["cpu_ms_per_order"] = report.cpu_per_order(
            sampler.totals_at(result["timed_from"]), sampler.totals(), result["count"], result["client_cpu_s"]
        )
        out.write_text(json.dumps(result), encoding="utf-8")
        if prepared and result["prepared_left"] == 0:
            self.log(
                f"{name}: the {prepared} prepared checkouts ran out before {self.a.duration} s (PREPARED=)"
            )
        cmd = (
            f"python -m benchmarks.http.purchase_load --threads {self.a.threads} --duration {self.a.duration}"
        )
        record(
            self.lab.src,
            self.results,
            "py",
            name,
            rep,
            cmd + (f" --prepared {prepared}" if prepared else ""),
            out,
        )
        return result["rate"]

    def shop_rep(self, rep: int) -> None:
        paths = self.a.paths
        if "detail" in paths:
            bad = self.parallel_get((self.files / "detail.txt").read_text().split())
            if bad:
                self.log(f"detail warm-up: {bad} answers not 200")
            self.shop_wrk(
                "shop detail cached", rep, "shop_get.lua", PATHS_FILE=str(self.files / "detail.txt")
            )
        if "list" in paths:
            self.shop_wrk("shop list-20", rep, "shop_get.lua", PATHS_FILE=str(self.files / "list.txt"))
        if "search" in paths:
            self.shop_wrk("shop search-20", rep, "shop_get.lua", PATHS_FILE=str(self.files / "search.txt"))
        if "add" in paths:
            # Carts for 120 adds a second (3 adds a cart); beyond, carts get more lines.
            carts = self.create_carts(self.a.duration * 40)
            self.shop_wrk(
                "shop cart add",
                rep,
                "shop_cart_add.lua",
                CARTS_FILE=str(carts),
                SKUS_FILE=str(self.files / "skus.txt"),
            )
        if "checkout" in paths:
            prepared = prepared_count(
                self.completion_rates["shop"], self.a.duration, self.a.prepared, per_second_cap=200
            )
            rate = self.shop_purchases("shop checkout completion (prepared)", rep, prepared=prepared)
            self.completion_rates["shop"].append(rate)
        if "purchase" in paths:
            self.shop_purchases("shop whole purchase", rep)
        waited = self.stack.drain_worker(log=self.log)
        self.log(f"shop rep {rep} done (worker backlog drained in {waited:.0f} s)")

    def peer_rep(self, rep: int) -> None:
        paths, lab = self.a.paths, self.lab
        if "detail" in paths:
            lab.ceiling_ping(rep)
        if "list" in paths:
            lab.ceiling_list(rep)
        if "list" in paths or "search" in paths:
            lab.oscar_list(rep)
        if "add" in paths:
            lab.oscar_basket_add(rep, f"{lab.mode}{rep}{uuid.uuid4().hex[:8]}")
        if "checkout" in paths:
            prefill = prepared_count(self.completion_rates["oscar"], self.a.duration, self.a.prepared)
            self.completion_rates["oscar"].append(lab.oscar_checkout(rep, prefill=prefill))
        if "purchase" in paths:
            lab.oscar_checkout(rep)
        self.log(f"peers rep {rep} done")

    # --- the run --------------------------------------------------------------------------------
    def run(self) -> int:
        a = self.a
        if shutil.which(WRK_BIN) is None:
            # Before anything is built or started: the load generator is the one tool not in the venv.
            sys.exit("wrk not found: install it (Debian: apt-get install wrk; ../shared/bench/setup.sh).")
        if a.peers:
            self.lab.build(log=self.log)
        self.log(f"shop database {a.database}: {a.products:,} products")
        self.stack.prepare_database(products=a.products, reseed=a.reseed, log=self.log)
        self.stack.flush_redis()
        try:
            self.stack.start()
            self.log(f"shop up on {self.stack.base} ({self.worker_model()})")
            self.prepare_inputs()
            # warm-up, not recorded, as the lab's
            command(
                [WRK_BIN, "-t2", "-c32", "-d3s", "-s", str(WRK / "shop_get.lua"), self.stack.base],
                env={**os.environ, "PATHS_FILE": str(self.files / "detail.txt")},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            if a.peers:
                self.lab.start()
                self.log("peers up: ceiling :8001, oscar :8002")
            since = datetime.datetime.now(datetime.UTC).isoformat()
            for rep in range(1, a.reps + 1):
                self.shop_rep(rep)
                if a.peers:
                    self.peer_rep(rep)
            check = self.delivered_check(since)
        finally:
            if a.peers:
                self.lab.stop()
            self.stack.stop()
        return self.write_report(check)

    def delivered_check(self, since: str, *, timeout: float = 60) -> dict:
        """
        The stack's check with the orders placed since ``since``; while some of them are not
        delivered to the ERP yet (a hand-over retrying after a failed attempt), asked again for up
        to ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            check = self.stack.data("check", "--since", since)
            if not check["orders_undelivered"] or time.monotonic() > deadline:
                return check
            time.sleep(2)

    def worker_model(self) -> str:
        a = self.a
        kind = f"gthread, {a.worker_threads} threads each" if a.worker_threads > 1 else "sync"
        return f"gunicorn {a.workers} workers ({kind}), gunicorn.conf.py"

    def write_report(self, check: dict) -> int:
        a = self.a
        records = report.read_records(self.results)
        summaries = report.summarise(records)
        wall = time.monotonic() - self.started
        lines = [
            f"# HTTP benchmark {self.markdown.stem}",
            "",
            f"- wall time {wall / 60:.1f} min; {a.reps} repetitions of {a.duration} s, interleaved "
            f"(shop, ceiling, oscar, shop, ...), each after the lab's drain",
            f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
            f"load average at the end {os.getloadavg()[0]:.2f}",
            f"- servers: {self.worker_model()} for the shop; the peers: lib/server.sh {self.lab.mode}, "
            f"{a.workers} workers; DEBUG off, persistent database connections everywhere",
            f"- shop stack: PostgreSQL database {a.database} ({a.products:,} demo products), Redis "
            f"{a.redis_url}, one Celery worker (default,erp, concurrency 2), "
            f"the ERP simulator on :{a.erp_port}",
            "- shop settings for the benchmark: THROTTLE_ANON/THROTTLE_USER raised to 100000000/min "
            "(throttles still run), SECURE_SSL_REDIRECT=false (no TLS proxy), CATALOG_CACHE_SECONDS=3600, "
            "SHUTDOWN_DRAIN_SECONDS=0",
            f"- clients: wrk -t2 -c{a.connections} -d{a.duration}s --latency (Lua) for reads and adds; "
            f"{a.threads} Python threads (requests) for {a.duration} s for completions and purchases; "
            "prepared checkouts (and Oscar's prefilled baskets) a repetition: 40 a second of a run "
            "before the first, then 1.2 x the best completion rate so far (PREPARED= fixes it); "
            "the clients share the CPUs with the servers; a whole purchase is the issue's 7 requests "
            "(cart, 3 adds, checkout, one PATCH of e-mail, address and method, completion; 9 in the "
            "results before 2026-12-07 15:00 UTC, when the details took 4)",
            f"- stock after the run: {check['oversold_skus']} oversold SKUs "
            "(on hand < 0 or reserved > on hand), "
            f"{check['ledger_mismatches']} stock rows differing from their ledger; "
            f"{check['orders']:,} orders in "
            f"the database; ERP hand-overs {check['erp_handovers']}; "
            + report.delivery(check["orders_placed"], check["orders_undelivered"]),
            "",
        ]
        if a.peers:
            lines += [
                "## Hot paths against their peers (same run)",
                "",
                report.ratio_table(report.verdicts(summaries, mode=self.lab.mode, paths=a.paths)),
                "",
            ]
        else:
            lines += [
                "## The shop's hot paths (no peers: PEERS=1 for the ratios)",
                "",
                report.shop_table(summaries, paths=a.paths),
                "",
            ]
        lines += ["## Every measurement", "", report.measurements_table(summaries), ""]
        cpu_table = report.cpu_table(records)
        if cpu_table:
            lines += [
                "## CPU per order, by process (median of the repetitions, ms)",
                "",
                "From `/proc` (user + system) every 0.5 s, from the timed part's start until the "
                "Celery worker had handled what the run left it; the client's from its own process. "
                "On 2 cores, 2,000 ms of CPU a second is the whole machine.",
                "",
                cpu_table,
                "",
            ]
        lines += [
            f"Raw JSON lines: `{self.results.name}`. Method and rows: benchmarks/http/README.md.",
            "",
        ]
        text = "\n".join(lines)
        self.markdown.write_text(text, encoding="utf-8")
        print(text)
        if a.compare:
            before = report.summarise(report.records_of_results_file(a.compare))
            compared = f"## The shop against {a.compare.name}\n\n{report.compare_table(before, summaries)}\n"
            with self.markdown.open("a", encoding="utf-8") as file:
                file.write("\n" + compared)
            print(compared)
        print(f"Written: {self.markdown} and {self.results}")
        failed = check["oversold_skus"] > 0 or check["orders_undelivered"] > 0
        failed |= any(s.errors for s in summaries.values())
        if a.peers:
            failed |= not all(v.met for v in report.verdicts(summaries, mode=self.lab.mode, paths=a.paths))
        return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return Bench(parse_args(argv)).run()


if __name__ == "__main__":
    sys.exit(main())
