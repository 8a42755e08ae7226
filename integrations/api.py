"""
Public functions of integrations. It is the top context, so no context calls it; the project's
operations page (``shop/operations.py``) reads the live state of the outside world through it.
"""

from django.conf import settings

from integrations import erp_client, selectors
from integrations.data import BreakerState as BreakerState
from integrations.data import ErpControl as ErpControl
from integrations.data import HandoverOverview as HandoverOverview
from integrations.data import JobRun as JobRun
from integrations.data import PendingHandover as PendingHandover
from integrations.erp_client import ErpError as ErpError  # what erp_control/set_erp_control raise
from integrations.erp_client import ErpRejected as ErpRejected
from integrations.erp_client import ErpUnavailable as ErpUnavailable
from integrations.metrics import EXPORT, INTERFACE_OF_IMPORT
from integrations.models import ErpHandover


def handover_overview() -> HandoverOverview:
    """Hand-overs by status now (two indexed reads), with the oldest still pending."""
    counts = selectors.handover_counts()
    oldest = selectors.oldest_pending_handover()
    return HandoverOverview(
        counts={status: counts.get(status, 0) for status in ErpHandover.Status.values},
        oldest_pending=None
        if oldest is None
        else PendingHandover(
            order_number=oldest.order_number,
            created_at=oldest.created_at,
            attempts=oldest.attempts,
            last_error=oldest.last_error,
            next_attempt_at=oldest.next_attempt_at,
        ),
    )


def recent_job_runs(*, limit: int = 10) -> list[JobRun]:
    """The newest ``limit`` jobs (imports of every kind and exports together), newest first."""
    if limit < 1:
        return []
    runs = [
        JobRun(
            id=str(job.pk),
            interface=INTERFACE_OF_IMPORT.get(job.kind, str(job.kind)),
            status=job.status,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            rows_applied=job.rows_applied,
            rows_rejected=job.rows_rejected,
            failure=job.failure,
        )
        for job in selectors.recent_import_jobs(limit=limit)
    ]
    runs += [
        JobRun(
            id=str(job.pk),
            interface=EXPORT,
            status=job.status,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            rows_applied=job.rows,
            rows_rejected=0,
            failure=job.failure,
        )
        for job in selectors.recent_export_jobs(limit=limit)
    ]
    runs.sort(key=lambda run: run.created_at, reverse=True)
    return runs[:limit]


def breaker_state() -> BreakerState:
    """
    The ERP circuit breaker as the workers share it (one cache read; it never probes).

    Raises:
        Exception: whatever the cache raises when it does not answer.
    """
    failures, refused = erp_client.breaker.state()
    return BreakerState(failures=int(failures), open=bool(refused))


def erp_url() -> str:
    """Where the shop hands orders over (``ERP_URL``)."""
    return settings.ERP_URL


def erp_control() -> ErpControl:
    """
    The ERP simulator's controls (``GET {ERP_URL}/control``).

    Raises:
        ErpUnavailable: nothing answers at ``ERP_URL`` (or it answered 5xx).
        ErpRejected: what answers is not the simulator (no ``/control``).
    """
    return ErpControl(**erp_client.simulator_control())


def set_erp_control(*, fail_rate: float, latency_ms: int) -> ErpControl:
    """
    Set the ERP simulator's failure injection (``PUT {ERP_URL}/control``): ``fail_rate`` 1.0 takes
    the ERP down, a large ``latency_ms`` makes it hang; checkout is not affected either way.

    Raises:
        ValueError: ``fail_rate`` not from 0 to 1, or ``latency_ms`` negative.
        ErpUnavailable: nothing answers at ``ERP_URL`` (or it answered 5xx).
        ErpRejected: what answers is not the simulator, or it refused the values.
    """
    if isinstance(fail_rate, bool) or not 0 <= fail_rate <= 1:
        raise ValueError("fail_rate must be a number from 0 to 1.")
    if isinstance(latency_ms, bool) or not isinstance(latency_ms, int) or latency_ms < 0:
        raise ValueError("latency_ms must be a non-negative integer.")
    return ErpControl(
        **erp_client.simulator_control(change={"fail_rate": float(fail_rate), "latency_ms": latency_ms})
    )
