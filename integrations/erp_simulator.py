"""
The ERP simulator: a stand-in for the ERP the shop hands orders to (the protocol below).

Pure standard library and no import of the shop, so that it runs anywhere (``python -m
integrations.erp_simulator --port 8099`` or ``manage.py run_erp_simulator``) and tests can
start it on a free port in a thread. It speaks the shop's hand-over protocol:

- ``POST /orders`` with ``Idempotency-Key``: 201 ``{erp_reference}``; 200 with the same reference
  for a key seen before (each such POST counts as a delivery);
- ``GET /orders``: ``[{order_number, erp_reference, deliveries}]``;
- ``GET``/``PUT /control``: ``{fail_rate, latency_ms}``: the share of ``POST /orders`` answered
  503, and the latency added to each;
- ``DELETE /orders``: forget every order.

There is no cancellation: the shop refuses a cancel once an order's hand-over has begun (409
``not_cancelable``) and never sends one it canceled before, so what this ERP received it keeps.
"""

import argparse
import contextlib
import json
import random
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ErpState:
    """What the simulated ERP received, and how it misbehaves; safe across request threads."""

    def __init__(self, *, fail_rate: float = 0.0, latency_ms: int = 0, seed: int | None = None):
        self.lock = threading.Lock()
        self.orders: dict[str, dict] = {}  # Idempotency-Key -> {order_number, erp_reference, deliveries}
        self.fail_rate = fail_rate
        self.latency_ms = latency_ms
        self.random = random.Random(seed)  # noqa: S311 - failure injection, not cryptography
        self.next_reference = 1

    def control(self) -> dict:
        with self.lock:
            return {"fail_rate": self.fail_rate, "latency_ms": self.latency_ms}

    def set_control(self, data: dict) -> dict:
        fail_rate = data.get("fail_rate", self.fail_rate)
        latency_ms = data.get("latency_ms", self.latency_ms)
        if isinstance(fail_rate, bool) or not isinstance(fail_rate, (int, float)) or not 0 <= fail_rate <= 1:
            raise ValueError("fail_rate must be a number from 0 to 1.")
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, int) or latency_ms < 0:
            raise ValueError("latency_ms must be a non-negative integer.")
        with self.lock:
            self.fail_rate = float(fail_rate)
            self.latency_ms = latency_ms
        return self.control()

    def should_fail(self) -> bool:
        with self.lock:
            return self.fail_rate > 0 and self.random.random() < self.fail_rate

    def receive(self, *, key: str, order_number: str) -> tuple[bool, str]:
        """Record a delivery; return (new, erp_reference)."""
        with self.lock:
            known = self.orders.get(key)
            if known is not None:
                known["deliveries"] += 1
                return False, known["erp_reference"]
            reference = f"ERP-{self.next_reference:08d}"
            self.next_reference += 1
            self.orders[key] = {"order_number": order_number, "erp_reference": reference, "deliveries": 1}
            return True, reference

    def received(self) -> list[dict]:
        with self.lock:
            return [dict(order) for order in self.orders.values()]

    def forget(self) -> None:
        with self.lock:
            self.orders.clear()


class ErpRequestHandler(BaseHTTPRequestHandler):
    """One request to the simulator; the state lives on the server (``server.state``)."""

    server_version = "ErpSimulator/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    @property
    def state(self) -> ErpState:
        return self.server.state

    def _read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"null")

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # The client may have gone away (timed out, or its process was killed).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": message})

    def do_GET(self):
        if self.path == "/orders":
            self._send(HTTPStatus.OK, self.state.received())
        elif self.path == "/control":
            self._send(HTTPStatus.OK, self.state.control())
        else:
            self._error(HTTPStatus.NOT_FOUND, "Not found.")

    def do_PUT(self):
        if self.path != "/control":
            self._error(HTTPStatus.NOT_FOUND, "Not found.")
            return
        try:
            data = self._read_json()
            if not isinstance(data, dict):
                raise ValueError("Expected a JSON object.")
            self._send(HTTPStatus.OK, self.state.set_control(data))
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))

    def do_DELETE(self):
        if self.path != "/orders":
            self._error(HTTPStatus.NOT_FOUND, "Not found.")
            return
        self.state.forget()
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        if self.path != "/orders":
            self._error(HTTPStatus.NOT_FOUND, "Not found.")
            return
        try:
            order = self._read_json()
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "The body is not JSON.")
            return
        latency_ms = self.state.control()["latency_ms"]
        if latency_ms:
            time.sleep(latency_ms / 1000)
        if self.state.should_fail():
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, "The ERP is unavailable.")
            return
        key = (self.headers.get("Idempotency-Key") or "").strip()
        if not key:
            self._error(HTTPStatus.BAD_REQUEST, "Idempotency-Key is required.")
            return
        if not isinstance(order, dict):
            self._error(HTTPStatus.BAD_REQUEST, "The order must be a JSON object.")
            return
        order_number = str(order.get("number") or order.get("order_number") or key)
        new, reference = self.state.receive(key=key, order_number=order_number)
        self._send(HTTPStatus.CREATED if new else HTTPStatus.OK, {"erp_reference": reference})


class ErpSimulator(ThreadingHTTPServer):
    """The simulator's HTTP server; ``state`` holds what it received."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], *, state: ErpState | None = None, verbose: bool = False):
        super().__init__(address, ErpRequestHandler)
        self.state = state or ErpState()
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> ErpSimulator:
    """Start a simulator in a daemon thread (port 0: a free one); stop it with ``shutdown()``."""
    server = ErpSimulator((host, port))
    threading.Thread(target=server.serve_forever, name="erp-simulator", daemon=True).start()
    return server


def serve(*, host: str = "127.0.0.1", port: int = 8099, fail_rate: float = 0.0, latency_ms: int = 0) -> None:
    """Serve until interrupted."""
    server = ErpSimulator(
        (host, port), state=ErpState(fail_rate=fail_rate, latency_ms=latency_ms), verbose=True
    )
    print(f"ERP simulator on {server.url} (fail_rate={fail_rate}, latency_ms={latency_ms})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of POST /orders answered 503")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to each POST /orders")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The shop's ERP simulator (the shop's hand-over protocol).")
    add_arguments(parser)
    options = parser.parse_args(argv)
    serve(host=options.host, port=options.port, fail_rate=options.fail_rate, latency_ms=options.latency_ms)


if __name__ == "__main__":
    main()
