"""Data that crosses integrations' border: what the operations page (shop/operations.py) reads."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PendingHandover:
    """A hand-over waiting for the ERP: the order, since when, and how its attempts went."""

    order_number: str
    created_at: datetime
    attempts: int
    last_error: str
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class HandoverOverview:
    """
    Every ERP hand-over by status now (``pending``, ``in_flight``, ``delivered``, ``failed``: dead
    letters, ``canceled``; each status present, 0 when none), and the oldest pending one.
    """

    counts: dict[str, int]
    oldest_pending: PendingHandover | None


@dataclass(frozen=True)
class JobRun:
    """
    One job of an interface: an import (``price_import``, ``product_import``, ``stock_sync``) or
    an ``export``. ``rows_applied`` is an export's rows written; ``failure`` why a failed job failed.
    """

    id: str
    interface: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows_applied: int
    rows_rejected: int
    failure: str


@dataclass(frozen=True)
class BreakerState:
    """The ERP circuit breaker: consecutive failures, and whether it refuses calls now (open)."""

    failures: int
    open: bool


@dataclass(frozen=True)
class ErpControl:
    """The ERP simulator's failure injection: share of ``POST /orders`` answered 503, added latency."""

    fail_rate: float
    latency_ms: int
