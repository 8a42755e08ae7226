"""
The HTTP client of the ERP (its protocol: integrations/README.md, "ERP simulator") and the
circuit breaker in front of it. Private.

Standard library only (``http.client``): one request per hand-over, with a connect timeout and a
read timeout of its own, so that an ERP that hangs costs a worker at most their sum. With tracing
on, each request is a client span whose trace context goes along in ``traceparent``
(``shop.kernel.tracing``; no instrumentation sees ``http.client``).
"""

import http.client
import json
import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from shop.kernel import tracing

logger = logging.getLogger(__name__)


class ErpError(Exception):
    """The ERP did not accept the order."""


class ErpUnavailable(ErpError):
    """The ERP could not be reached, timed out or answered 5xx/408/429: worth retrying later."""


class ErpRejected(ErpError):
    """The ERP refused the order (another 4xx, or an answer without a reference): retrying will not help."""


def post_order(*, order_number: str, payload: dict) -> str:
    """
    POST the order to ``{ERP_URL}/orders`` with ``Idempotency-Key: <order number>``; return the
    ERP's reference (201 for a new order, 200 for one it has seen).

    Raises:
        ErpUnavailable: connection refused or reset, a timeout, or a 5xx, 408 or 429 answer.
        ErpRejected: another non-2xx answer, or a 2xx without ``erp_reference``.
    """
    url = urlsplit(settings.ERP_URL.rstrip("/") + "/orders")
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.hostname, url.port, timeout=settings.ERP_CONNECT_TIMEOUT_SECONDS)
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Idempotency-Key": order_number,
    }
    try:
        where = f"{url.scheme}://{url.hostname}:{url.port or connection.port}{url.path}"  # no credentials
        with tracing.client_span("ERP POST /orders", method="POST", url=where, headers=headers) as record:
            connection.connect()
            connection.sock.settimeout(settings.ERP_READ_TIMEOUT_SECONDS)
            connection.request("POST", url.path, body=body, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read(65536)
            record(status)
    except TimeoutError as exc:
        raise ErpUnavailable(f"timeout: {exc or 'no answer in time'}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise ErpUnavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    text = raw.decode(errors="replace")[:500]
    if status >= 500 or status in (408, 429):
        raise ErpUnavailable(f"HTTP {status}: {text}")
    if not 200 <= status < 300:
        raise ErpRejected(f"HTTP {status}: {text}")
    try:
        reference = json.loads(raw)["erp_reference"]
    except (ValueError, KeyError, TypeError):
        raise ErpRejected(f"HTTP {status} without erp_reference: {text}") from None
    if not isinstance(reference, str) or not reference:
        raise ErpRejected(f"HTTP {status} with an invalid erp_reference: {text}")
    return reference


def simulator_control(*, change: dict | None = None) -> dict:
    """
    The ERP simulator's ``{fail_rate, latency_ms}``: ``GET {ERP_URL}/control``, or ``PUT`` of
    ``change`` (the operations page's controls). A short timeout of its own: the page waits on it.

    Raises:
        ErpUnavailable: the simulator could not be reached or answered 5xx.
        ErpRejected: another non-2xx answer (a real ERP has no ``/control``; a value refused), or
            an answer that is not ``{fail_rate, latency_ms}``.
    """
    url = urlsplit(settings.ERP_URL.rstrip("/") + "/control")
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.hostname, url.port, timeout=SIMULATOR_CONTROL_TIMEOUT_SECONDS)
    method, body = ("GET", None) if change is None else ("PUT", json.dumps(change).encode())
    try:
        connection.request(method, url.path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        status, raw = response.status, response.read(65536)
    except TimeoutError as exc:
        raise ErpUnavailable(f"timeout: {exc or 'no answer in time'}") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:  # ValueError: ERP_URL unusable
        raise ErpUnavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    text = raw.decode(errors="replace")[:500]
    if status >= 500:
        raise ErpUnavailable(f"HTTP {status}: {text}")
    if status != 200:
        raise ErpRejected(f"HTTP {status}: {text}")
    try:
        data = json.loads(raw)
        return {"fail_rate": float(data["fail_rate"]), "latency_ms": int(data["latency_ms"])}
    except (ValueError, KeyError, TypeError):
        raise ErpRejected(f"HTTP {status} without fail_rate and latency_ms: {text}") from None


SIMULATOR_CONTROL_TIMEOUT_SECONDS = 2.0


class CircuitBreaker:
    """
    Stops calling the ERP after ``ERP_BREAKER_THRESHOLD`` consecutive failures, for
    ``ERP_BREAKER_COOLDOWN_SECONDS``; then one caller at a time probes (half-open), and a success
    closes it. The state lives in the Django cache, so every worker shares it; if the cache does
    not answer the breaker stays closed (fails open): the ERP is called as without a breaker.
    """

    FAILURES = "erp:breaker:failures"
    OPEN_UNTIL = "erp:breaker:open_until"
    PROBE = "erp:breaker:probe"

    def _safe(self, operation, default=None):
        try:
            return operation()
        except Exception:
            logger.warning("The circuit breaker's cache is unavailable; calling the ERP.", exc_info=True)
            return default

    def closed(self) -> bool:
        """
        Fewer consecutive failures than the threshold: calls go, with no probe to take. One cache
        round trip; if the cache does not answer, closed.
        """
        failures = self._safe(lambda: cache.get(self.FAILURES), 0) or 0
        return failures < settings.ERP_BREAKER_THRESHOLD

    def open_until(self) -> float | None:
        """The time (epoch seconds) until which calls are refused, or None when they may go."""
        if self.closed():
            return None
        until = self._safe(lambda: cache.get(self.OPEN_UNTIL))
        if until is not None and until > time.time():
            return until
        # Cooled down (half-open): one caller probes the ERP, the others wait for its answer.
        probe_seconds = settings.ERP_CONNECT_TIMEOUT_SECONDS + settings.ERP_READ_TIMEOUT_SECONDS + 5
        if self._safe(lambda: cache.add(self.PROBE, 1, timeout=probe_seconds), True):
            return None
        return time.time() + probe_seconds

    def state(self) -> tuple[int, bool]:
        """
        The consecutive failures, and whether calls are refused now (open; half-open counts as
        closed), read without probing: for the metrics. One cache round trip.
        """
        values = cache.get_many([self.FAILURES, self.OPEN_UNTIL])
        failures = values.get(self.FAILURES) or 0
        until = values.get(self.OPEN_UNTIL)
        refused = failures >= settings.ERP_BREAKER_THRESHOLD and until is not None and until > time.time()
        return failures, refused

    def record_success(self) -> None:
        self._safe(lambda: cache.delete_many([self.FAILURES, self.OPEN_UNTIL, self.PROBE]))

    def record_failure(self) -> None:
        def count() -> int:
            cache.add(self.FAILURES, 0, timeout=None)
            return cache.incr(self.FAILURES)

        failures = self._safe(count, 0) or 0
        if failures >= settings.ERP_BREAKER_THRESHOLD:
            cooldown = settings.ERP_BREAKER_COOLDOWN_SECONDS
            self._safe(lambda: cache.set(self.OPEN_UNTIL, time.time() + cooldown, timeout=cooldown + 60))
            self._safe(lambda: cache.delete(self.PROBE))
            logger.warning("ERP circuit breaker open for %ss after %s failures.", cooldown, failures)


breaker = CircuitBreaker()
