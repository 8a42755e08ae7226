"""
Integrations' metrics: each interface's calls and jobs, the ERP hand-overs' results, and, at
scrape time, the hand-over backlog and the circuit breaker (``HandoverCollector``, registered in
``apps.py``).

- ``shop_integration_duration_seconds{interface, outcome}`` (a histogram): one call or job of an
  interface and how it ended. ``erp_handover``: one POST to the ERP, ``ok``, ``unavailable``
  (refused, timed out, 5xx: retried) or ``rejected`` (4xx: dead-lettered); ``price_import``,
  ``product_import``, ``stock_sync``, ``export``: one job, ``done`` or ``failed``. Its ``_count``
  is the outcomes per interface.
- ``shop_integration_rows_total{interface, result}``: rows of the imports ``applied`` or
  ``rejected``, and of the exports ``written``.
- ``shop_erp_handover_attempts_total{result}``: what each delivery task did (``delivered``,
  ``retrying``, ``failed``, ``deferred`` by the open breaker, ``canceled``, ``skipped``).
- ``shop_erp_handovers{status}``: hand-overs waiting (``pending``, ``in_flight``) or dead-lettered
  (``failed``) now; ``shop_erp_handover_oldest_pending_age_seconds``.
- ``shop_integration_breaker_open{interface}`` (1: calls refused) and
  ``shop_integration_breaker_failures{interface}`` (consecutive failures).
"""

import time
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from prometheus_client import Counter, Histogram

from integrations import erp_client, selectors
from integrations.models import ErpHandover, ImportJob
from shop.kernel.metrics import gauges, safely

INTERFACE_SECONDS = Histogram(
    "shop_integration_duration_seconds",
    "Calls and jobs of each interface to the outside world, by outcome.",
    ["interface", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
ROWS = Counter(
    "shop_integration_rows_total", "Rows of imports and exports, by result.", ["interface", "result"]
)
HANDOVER_ATTEMPTS = Counter(
    "shop_erp_handover_attempts_total", "ERP delivery tasks by what they did.", ["result"]
)

ERP_HANDOVER = "erp_handover"
INTERFACE_OF_IMPORT = {
    ImportJob.Kind.PRICES: "price_import",
    ImportJob.Kind.PRODUCTS: "product_import",
    ImportJob.Kind.STOCK: "stock_sync",
}
EXPORT = "export"
BACKLOG = (ErpHandover.Status.PENDING, ErpHandover.Status.IN_FLIGHT, ErpHandover.Status.FAILED)


def erp_call(call: Callable[..., str], **kwargs) -> str:
    """Make ``call`` (``erp_client.post_order``) and time it as an ``erp_handover`` of its outcome."""
    started = time.monotonic()
    outcome = "error"
    try:
        result = call(**kwargs)
        outcome = "ok"
        return result
    except erp_client.ErpUnavailable:
        outcome = "unavailable"
        raise
    except erp_client.ErpRejected:
        outcome = "rejected"
        raise
    finally:
        INTERFACE_SECONDS.labels(ERP_HANDOVER, outcome).observe(time.monotonic() - started)


def handover_attempt(result: str) -> str:
    """Count what one delivery task did; return it."""
    HANDOVER_ATTEMPTS.labels(result).inc()
    return result


def _seconds(started_at: datetime | None, finished_at: datetime | None) -> float:
    if started_at is None or finished_at is None:
        return 0.0
    return max((finished_at - started_at).total_seconds(), 0.0)


def import_finished(job: ImportJob) -> None:
    """An import job ended (``done`` or ``failed``, saved): its duration, outcome and rows."""
    interface = INTERFACE_OF_IMPORT.get(job.kind, str(job.kind))
    INTERFACE_SECONDS.labels(interface, job.status).observe(_seconds(job.started_at, job.finished_at))
    ROWS.labels(interface, "applied").inc(job.rows_applied)
    ROWS.labels(interface, "rejected").inc(job.rows_rejected)


def export_finished(*, status: str, started_at: datetime | None, rows: int = 0) -> None:
    """An export job ended (``done`` or ``failed``, saved)."""
    INTERFACE_SECONDS.labels(EXPORT, status).observe(_seconds(started_at, timezone.now()))
    ROWS.labels(EXPORT, "written").inc(rows)


LIVE_GAUGES = {
    "shop_erp_handovers": ("ERP hand-overs waiting or dead-lettered, by status.", ["status"]),
    "shop_erp_handover_oldest_pending_age_seconds": ("Age of the oldest pending hand-over (0: none).", []),
    "shop_integration_breaker_open": ("1 while the circuit breaker refuses calls.", ["interface"]),
    "shop_integration_breaker_failures": ("Consecutive failures the breaker counted.", ["interface"]),
}
_gauge = gauges(LIVE_GAUGES)


class HandoverCollector:
    """At scrape time: the hand-over backlog (two indexed reads) and the breaker (one cache read)."""

    def describe(self):
        return [_gauge(name) for name in LIVE_GAUGES]

    def collect(self):
        yield from safely("the hand-overs", self._backlog)
        yield from safely("the circuit breaker", self._breaker)

    def _backlog(self):
        counts = selectors.handover_counts(statuses=BACKLOG)
        backlog = _gauge("shop_erp_handovers")
        for status in BACKLOG:
            backlog.add_metric([status], counts.get(status, 0))
        oldest = selectors.oldest_pending_handover()
        age = (timezone.now() - oldest.created_at).total_seconds() if oldest else 0.0
        return [backlog, _gauge("shop_erp_handover_oldest_pending_age_seconds", age)]

    def _breaker(self):
        failures, refused = erp_client.breaker.state()
        is_open = _gauge("shop_integration_breaker_open")
        is_open.add_metric([ERP_HANDOVER], 1.0 if refused else 0.0)
        count = _gauge("shop_integration_breaker_failures")
        count.add_metric([ERP_HANDOVER], failures)
        return [is_open, count]
