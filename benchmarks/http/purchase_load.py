"""
Bounded closed-loop purchases against the shop's API, 127.0.0.1 only: the shop's counterpart of the
peer lab's ``oscar/checkout_load.py``, with the same client (``requests``, one session a thread, no
cookies), the same threads and duration, the same percentiles and the same JSON result, so that the
client costs the same on both sides.

Each of THREADS workers loops until DURATION s have passed, a whole purchase each time, the steps
of issue 11's row (cart, 3 adds, checkout, address, completion), 7 requests:
  POST /carts/ -> 3 x POST /carts/<token>/lines/ (random SKUs of the pool) -> POST /checkouts/ ->
  PATCH e-mail, shipping address and shipping method ``standard`` (one request, as the README's
  walkthrough) -> POST /checkouts/<id>/complete/ (Idempotency-Key, sandbox token ``tok_success``).
With --step-by-step the details take 4 requests instead of one (PATCH e-mail and address, GET
shipping-methods, PATCH the method read there): 9 requests, as the benchmark timed up to 1777058.
It reports orders/s (completed purchases) and the latency of the completion POST alone, plus adds/s
and whole-purchase latency as extras.

With --prepared N: first (untimed) prepare N checkouts (every step but the completion; e-mail,
address and shipping method in one PATCH), then time only the completions over those (the run
ends early if they run out).

  python -m benchmarks.http.purchase_load --base URL --skus-file FILE [--threads 8] [--duration 15]
      [--prepared N] [--out FILE.json]
"""

import argparse
import http.cookiejar
import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

API = "/api/v1"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
}


class StepFailed(Exception):
    """A step answered something else than 2xx, or not at all."""


def new_session() -> requests.Session:
    """A session that keeps no cookies (as checkout_load.py's): every purchase is a new guest."""
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


def pct(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile in ms of ``values`` in seconds, as checkout_load.py computes it."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2) if ordered else None


class Purchases:
    """The steps of a purchase on one shop, timing what the caller asks for."""

    def __init__(self, base: str, skus: list[str], lines: int = 3):
        if not base.startswith(("http://127.0.0.1", "http://localhost")):
            raise SystemExit("loopback only")
        self.base = base.rstrip("/") + API
        self.skus = skus
        self.lines = lines
        self.lock = threading.Lock()
        self.add_lat: list[float] = []
        self.errors: list[str] = []

    def _call(self, session: requests.Session, method: str, path: str, what: str, **kwargs) -> dict | list:
        try:
            response = session.request(method, self.base + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            raise StepFailed(f"{what} {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise StepFailed(f"{what} {response.status_code} {response.text[:120]}")
        return response.json()

    def prepare(self, session: requests.Session, *, step_by_step: bool = False) -> str:
        """
        Cart, lines, checkout, and e-mail, address and method ``standard`` in one PATCH, as the
        README's walkthrough does: the checkout's id, ready to complete, after 6 requests.
        ``step_by_step``: e-mail and address, the shipping methods, the method read there, in a
        request each (8 requests).
        """
        token = self._call(session, "POST", "/carts/", "cart", json={})["token"]
        for sku in random.sample(self.skus, self.lines):
            started = time.monotonic()
            self._call(session, "POST", f"/carts/{token}/lines/", "add", json={"sku": sku, "quantity": 1})
            elapsed = time.monotonic() - started
            with self.lock:
                self.add_lat.append(elapsed)
        checkout = self._call(session, "POST", "/checkouts/", "checkout", json={"cart_token": token})["id"]
        if not step_by_step:
            details = {
                "email": "buyer@example.com",
                "shipping_address": ADDRESS,
                "shipping_method": "standard",
            }
            self._call(session, "PATCH", f"/checkouts/{checkout}/", "details", json=details)
            return checkout
        self._call(
            session,
            "PATCH",
            f"/checkouts/{checkout}/",
            "address",
            json={"email": "buyer@example.com", "shipping_address": ADDRESS},
        )
        methods = self._call(session, "GET", f"/checkouts/{checkout}/shipping-methods/", "shipping-methods")
        codes = [method["code"] for method in methods]
        code = "standard" if "standard" in codes else codes[0]
        self._call(session, "PATCH", f"/checkouts/{checkout}/", "shipping", json={"shipping_method": code})
        return checkout

    def complete(self, session: requests.Session, checkout: str) -> None:
        """The completion, paid with the sandbox's succeeding token; it must place the order."""
        order = self._call(
            session,
            "POST",
            f"/checkouts/{checkout}/complete/",
            "complete",
            json={"payment_token": "tok_success"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if not order.get("number"):
            raise StepFailed(f"complete: no order number {str(order)[:120]}")

    def error(self, exc: StepFailed) -> None:
        with self.lock:
            self.errors.append(str(exc))


def run_threads(threads: int, target: Callable[[int], None]) -> float:
    """Run ``target(k)`` in ``threads`` threads; the seconds until the last one ended."""
    started = time.monotonic()
    workers = [threading.Thread(target=target, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Closed-loop purchases against the shop (loopback only).")
    parser.add_argument("--base", default="http://127.0.0.1:8300")
    parser.add_argument("--skus-file", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--prepared", type=int, default=0)
    parser.add_argument("--step-by-step", action="store_true", help="details in 4 requests, not 1")
    parser.add_argument("--out", type=Path)
    a = parser.parse_args(argv)
    skus = [line for line in a.skus_file.read_text(encoding="utf-8").split() if line]
    shop = Purchases(a.base, skus, a.lines)
    co_lat: list[float] = []
    flow_lat: list[float] = []
    prepared: list[str] = []
    stop_at = time.monotonic() + a.duration

    def completed(started_flow: float, started: float) -> None:
        ended = time.monotonic()
        with shop.lock:
            co_lat.append(ended - started)
            flow_lat.append(ended - started_flow)

    def prepare_worker(k: int) -> None:
        session = new_session()
        deadline = time.monotonic() + 180
        for _ in range(a.prepared // a.threads + 1):
            if time.monotonic() > deadline:
                break
            try:
                checkout = shop.prepare(session)
            except StepFailed as exc:
                shop.error(exc)
                continue
            with shop.lock:
                prepared.append(checkout)

    def prepared_worker(k: int) -> None:
        session = new_session()
        while time.monotonic() < stop_at:
            with shop.lock:
                if not prepared:
                    return
                checkout = prepared.pop()
            started = time.monotonic()
            try:
                shop.complete(session, checkout)
            except StepFailed as exc:
                shop.error(exc)
                continue
            completed(started, started)

    def worker(k: int) -> None:
        session = new_session()
        while time.monotonic() < stop_at:
            started_flow = time.monotonic()
            try:
                checkout = shop.prepare(session, step_by_step=a.step_by_step)
                started = time.monotonic()
                shop.complete(session, checkout)
            except StepFailed as exc:
                shop.error(exc)
                continue
            completed(started_flow, started)

    if a.prepared:
        run_threads(a.threads, prepare_worker)
        shop.add_lat.clear()
        prepare_errors = list(shop.errors)
        stop_at = time.monotonic() + a.duration
    else:
        prepare_errors = []
    timed_from, cpu_before = time.time(), time.process_time()
    elapsed = run_threads(a.threads, prepared_worker if a.prepared else worker)
    client_cpu = time.process_time() - cpu_before
    errors = shop.errors[len(prepare_errors) :] if a.prepared else shop.errors
    result = {
        "rate": round(len(co_lat) / elapsed, 2),
        "unit": "orders/s",
        "p50_ms": pct(co_lat, 50),
        "p99_ms": pct(co_lat, 99),
        "avg_ms": round(statistics.mean(co_lat) * 1000, 2) if co_lat else None,
        "count": len(co_lat),
        # Errors while preparing count too: a checkout that could not be prepared is a failed request.
        "errors": len(errors) + len(prepare_errors),
        "adds_per_s": round(len(shop.add_lat) / elapsed, 2),
        "add_p50_ms": pct(shop.add_lat, 50),
        "add_p99_ms": pct(shop.add_lat, 99),
        "flow_p50_ms": pct(flow_lat, 50),
        "flow_p99_ms": pct(flow_lat, 99),
        "elapsed_s": round(elapsed, 2),
        # When the timed part began (epoch seconds) and this client's CPU during it: the benchmark
        # puts the servers' CPU of the same span beside it (CPU per order, by process).
        "timed_from": round(timed_from, 3),
        "client_cpu_s": round(client_cpu, 3),
        "threads": a.threads,
        "prepared": a.prepared,
        "prepared_left": len(prepared),
        "first_errors": (prepare_errors + errors)[:3],
    }
    print(json.dumps(result))
    if a.out:
        a.out.write_text(json.dumps(result), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
