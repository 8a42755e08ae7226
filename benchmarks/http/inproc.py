"""
One request type through Django's WSGI handler in this process, without a server, a network or a
load generator: the web worker's own CPU per request, and where it goes. What the 2026-12-07
rounds of docs/PERFORMANCE.md were measured with; run it on the benchmark's database (seeded by
``make bench``, or ``manage.py seed_demo``) with the stack's settings and no load besides:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_bench REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python -m benchmarks.http.inproc complete --n 300 [--profile out.pstats]

Kinds: ``complete`` (a prepared checkout's completion), ``checkout`` (checkout create from a cart
of 3 lines), ``add`` (a line added to a cart), ``purchase`` (the 7 requests of the benchmark's
whole purchase), ``handover`` (the worker's task for a placed order, with its first ERP attempt:
start ``manage.py run_erp_simulator`` and set ``ERP_URL``). What a request needs is prepared
outside the timed part; the timed part is the handler's call alone, CPU time of this process
(``time.process_time``), so PostgreSQL's and Redis's own work is not in it. Prints one JSON
object: median and p90 milliseconds per request, and the statements per request.

CPU times on these machines move by a third within minutes, more than a change of a few per cent.
``--instructions`` counts instead: it runs this script four times under valgrind's callgrind
(``--n 10`` and ``--n`` N, each with and without ``--prepare-only``, which prepares every request
but does not send it) and prints the instructions one request executes in this process, the same
for the same code whatever else the machine does (docs/PERFORMANCE.md, the eighth round); expired
reservations are released first, so that the four runs start from the same state. About
a minute a run, two at a time; valgrind must be installed (``apt-get install valgrind``).
"""

import argparse
import cProfile
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")
    os.environ.setdefault("SECRET_KEY", "inproc-benchmark-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("THROTTLE_ANON", "100000000/min")
    os.environ.setdefault("THROTTLE_USER", "100000000/min")
    import django

    django.setup()


class Shop:
    def __init__(self, skus: list[str]):
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.skus = skus

    def call(self, method: str, path: str, body=None, headers=None):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        response = getattr(self.client, method.lower())("/api/v1" + path, headers=headers or {}, **kwargs)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.content[:300]!r}")
        return response

    def cart(self, lines: int = 3) -> str:
        token = self.call("POST", "/carts/", {}).json()["token"]
        for sku in random.sample(self.skus, lines):
            self.call("POST", f"/carts/{token}/lines/", {"sku": sku, "quantity": 1})
        return token

    def prepared(self) -> str:
        checkout = self.call("POST", "/checkouts/", {"cart_token": self.cart()}).json()["id"]
        details = {"email": "buyer@example.com", "shipping_address": ADDRESS, "shipping_method": "standard"}
        self.call("PATCH", f"/checkouts/{checkout}/", details)
        return checkout

    def complete(self, checkout: str):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        return lambda: self.call(
            "POST", f"/checkouts/{checkout}/complete/", {"payment_token": "tok_success"}, key
        )


def _skus(n: int = 2000) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.sku FROM catalog_variant v JOIN catalog_product p ON p.id = v.product_id "
            "JOIN inventory_stocklevel s ON s.sku = v.sku "
            "WHERE v.is_active AND p.is_active AND s.on_hand - s.reserved > 1000 ORDER BY v.sku LIMIT %s",
            [n],
        )
        return [row[0] for row in cursor.fetchall()]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=["complete", "checkout", "add", "purchase", "handover"])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", help="write a cProfile of the timed calls here")
    parser.add_argument("--prepare-only", action="store_true", help="prepare each request, send none")
    parser.add_argument("--seed", type=int, help="seed the random choices (SKUs) for a repeatable run")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions a request under callgrind"
    )
    args = parser.parse_args(argv)
    if args.instructions:
        return instructions(args.kind, n=args.n, warmup=args.warmup)
    _setup()
    from django.db import connection

    if args.seed is not None:
        random.seed(args.seed)
    shop = Shop(_skus())
    if len(shop.skus) < 10:
        raise SystemExit("Not enough SKUs with stock: seed the database and top up its stock first.")

    def prepare():
        if args.kind == "complete":
            return [shop.complete(shop.prepared())]
        if args.kind == "checkout":
            token = shop.cart()
            return [lambda: shop.call("POST", "/checkouts/", {"cart_token": token})]
        if args.kind == "add":
            token = shop.call("POST", "/carts/", {}).json()["token"]
            sku = random.choice(shop.skus)  # noqa: S311 - a sample, not a secret
            return [lambda: shop.call("POST", f"/carts/{token}/lines/", {"sku": sku, "quantity": 1})]
        if args.kind == "handover":
            return [_handover(shop)]
        return [lambda: _purchase(shop)]

    profile = cProfile.Profile(time.process_time) if args.profile else None
    times, statements = [], []
    counted = [0]

    def count(execute, sql, params, many, context):  # cheaper than the debug cursor's log
        counted[0] += 1
        return execute(sql, params, many, context)

    for i in range(args.warmup + args.n):
        calls = prepare()
        counted[0] = 0
        with connection.execute_wrapper(count):
            started = time.process_time()
            if profile and i >= args.warmup:
                profile.enable()
            for call in () if args.prepare_only else calls:
                call()
            if profile and i >= args.warmup:
                profile.disable()
            elapsed = time.process_time() - started
        if i >= args.warmup:
            times.append(elapsed * 1000)
            statements.append(counted[0])
    if profile:
        profile.dump_stats(args.profile)
    times.sort()
    result = {
        "kind": args.kind,
        "n": args.n,
        "cpu_ms_median": round(statistics.median(times), 2),
        "cpu_ms_p90": round(times[int(len(times) * 0.9)], 2),
        "statements": statistics.median(statements),
    }
    print(json.dumps(result))
    return result


SMALL_N = 10


def per_request(counts: dict[tuple[int, bool], int], n: int) -> float:
    """
    Instructions one request executes, from whole-process counts keyed by (requests, prepare
    only): what ``n - SMALL_N`` more requests added, less what preparing them added.
    """
    sent = counts[(n, False)] - counts[(SMALL_N, False)]
    prepared = counts[(n, True)] - counts[(SMALL_N, True)]
    return (sent - prepared) / (n - SMALL_N)


def _callgrind(argv: list[str]) -> int:
    """Instructions this script executes with ``argv``, run under callgrind (its ``Collected`` line)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    module = ["-m", "benchmarks.http.inproc"]
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *module, *argv],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONHASHSEED": "0"},  # the same hashes, so the same dict and set work
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", result.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def instructions(kind: str, *, n: int, warmup: int) -> dict:
    """``--instructions``: the four runs under callgrind (two at a time) and the count a request."""
    if n <= SMALL_N:
        raise SystemExit(f"--n must be more than {SMALL_N} with --instructions")
    runs = [(count, prepare_only) for count in (SMALL_N, n) for prepare_only in (False, True)]
    # The same state for the four runs: expired reservations (earlier runs' checkouts) would be
    # released by whichever run meets them first and count as its requests' work.
    released = _release_expired()

    def run(key: tuple[int, bool]) -> int:
        count, prepare_only = key
        argv = [kind, "--n", str(count), "--warmup", str(warmup), "--seed", "1"]
        return _callgrind([*argv, "--prepare-only"] if prepare_only else argv)

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(runs, pool.map(run, runs), strict=True))
    result = {
        "kind": kind,
        "n": n,
        "instructions_per_request": round(per_request(counts, n)),
        "expired_released_before": released,
    }
    print(json.dumps(result))
    return result


def _release_expired() -> int:
    """Release every expired reservation (as beat's sweep would), here, outside the counted runs."""
    _setup()
    from benchmarks.http.shop_data import release_expired

    return release_expired()


def _handover(shop: Shop):
    """
    An order placed (untimed), then its ``OrderPlaced`` handled as a worker of the ``erp`` queue
    handles it (the task run here, its hand-over's first attempt included, against the ERP
    simulator at ``ERP_URL``): the worker's CPU per order, less Celery's own.
    """
    from celery import current_app

    from shop.kernel.models import OutboxMessage

    number = shop.complete(shop.prepared())().json()["number"]
    row = OutboxMessage.objects.filter(event_type="checkout.OrderPlaced", payload__number=number).get()
    OutboxMessage.objects.filter(pk=row.pk).update(sent_at=row.occurred_at)  # not relayed again
    task = current_app.tasks["integrations.erp_record_handover"]
    return lambda: task.apply(kwargs={"envelope": row.envelope()}).get()


def _purchase(shop: Shop) -> None:
    shop.complete(shop.prepared())()


if __name__ == "__main__":
    main(sys.argv[1:])
