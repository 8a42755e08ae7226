"""
What integrations.api tells the operations page (shop/operations.py): hand-overs by status with
the oldest pending, recent job runs, the circuit breaker, and the ERP simulator's controls over
real HTTP (reachable, unreachable, not a simulator). On SQLite and on PostgreSQL alike.
"""

import socket
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from integrations import api
from integrations.erp_client import breaker
from integrations.models import ErpHandover, ExportJob, ImportJob
from integrations.services import erp as erp_services

pytestmark = pytest.mark.django_db


def _handover(number: str, *, status: str, age_minutes: int = 0, attempts: int = 0) -> None:
    erp_services.handover_create(order_number=number, payload={"number": number})
    ErpHandover.objects.filter(order_number=number).update(
        status=status,
        attempts=attempts,
        last_error="HTTP 503: down" if attempts else "",
        created_at=timezone.now() - timedelta(minutes=age_minutes),
    )


def test_handover_overview_counts_every_status_and_names_the_oldest_pending():
    assert api.handover_overview() == api.HandoverOverview(
        counts=dict.fromkeys(ErpHandover.Status.values, 0), oldest_pending=None
    )

    _handover("ORD-1", status="delivered", age_minutes=90)
    _handover("ORD-2", status="pending", age_minutes=30, attempts=2)
    _handover("ORD-3", status="pending", age_minutes=5)
    _handover("ORD-4", status="failed", age_minutes=60, attempts=8)
    _handover("ORD-5", status="in_flight", age_minutes=1)

    overview = api.handover_overview()

    assert overview.counts == {"pending": 2, "in_flight": 1, "delivered": 1, "failed": 1, "canceled": 0}
    oldest = overview.oldest_pending
    assert (oldest.order_number, oldest.attempts, oldest.last_error) == ("ORD-2", 2, "HTTP 503: down")
    assert timedelta(minutes=29) < timezone.now() - oldest.created_at < timedelta(minutes=31)


def test_recent_job_runs_merge_imports_and_exports_newest_first():
    now = timezone.now()
    old_prices = ImportJob.objects.create(kind="prices", file=ContentFile(b"x", name="p.csv"))
    stock = ImportJob.objects.create(
        kind="stock", status="done", file=ContentFile(b"x", name="s.csv"), rows_applied=7, rows_rejected=1
    )
    export = ExportJob.objects.create(status="failed", failure="disk full", rows=3)
    for job, minutes in ((old_prices, 30), (stock, 20)):
        ImportJob.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=minutes))
    ExportJob.objects.filter(pk=export.pk).update(created_at=now - timedelta(minutes=10))

    runs = api.recent_job_runs(limit=10)

    assert [(run.interface, run.status) for run in runs] == [
        ("export", "failed"),
        ("stock_sync", "done"),
        ("price_import", "queued"),
    ]
    assert (runs[0].id, runs[0].failure, runs[0].rows_applied) == (str(export.pk), "disk full", 3)
    assert (runs[1].rows_applied, runs[1].rows_rejected) == (7, 1)
    assert [run.interface for run in api.recent_job_runs(limit=2)] == ["export", "stock_sync"]
    assert api.recent_job_runs(limit=0) == []


def test_breaker_state_follows_the_failures_the_workers_share(settings):
    settings.ERP_BREAKER_THRESHOLD = 2
    assert api.breaker_state() == api.BreakerState(failures=0, open=False)

    breaker.record_failure()
    assert api.breaker_state() == api.BreakerState(failures=1, open=False)
    breaker.record_failure()
    assert api.breaker_state() == api.BreakerState(failures=2, open=True)
    breaker.record_success()
    assert api.breaker_state() == api.BreakerState(failures=0, open=False)


def test_the_simulator_s_controls_are_read_and_set_over_http(erp_simulator):
    assert api.erp_control() == api.ErpControl(fail_rate=0.0, latency_ms=0)

    assert api.set_erp_control(fail_rate=1, latency_ms=250) == api.ErpControl(fail_rate=1.0, latency_ms=250)

    assert erp_simulator.control() == {"fail_rate": 1.0, "latency_ms": 250}  # the simulator's own answer
    assert api.erp_control() == api.ErpControl(fail_rate=1.0, latency_ms=250)


@pytest.mark.parametrize(("fail_rate", "latency_ms"), [(1.5, 0), (-0.1, 0), (0.5, -1), (0.5, 1.5), (True, 0)])
def test_values_out_of_range_are_refused_before_any_call(erp_simulator, fail_rate, latency_ms):
    with pytest.raises(ValueError):
        api.set_erp_control(fail_rate=fail_rate, latency_ms=latency_ms)
    assert erp_simulator.control() == {"fail_rate": 0.0, "latency_ms": 0}


def test_an_unreachable_simulator_is_erp_unavailable(settings):
    with socket.socket() as probe:  # a free port: nothing listens there once it is closed
        probe.bind(("127.0.0.1", 0))
        settings.ERP_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(api.ErpUnavailable):
        api.erp_control()
    with pytest.raises(api.ErpUnavailable):
        api.set_erp_control(fail_rate=1.0, latency_ms=0)


def test_an_erp_without_controls_is_erp_rejected(erp_simulator, settings):
    settings.ERP_URL = f"{erp_simulator.url}/not-the-simulator"  # answers 404 for /control

    with pytest.raises(api.ErpRejected):
        api.erp_control()
    with pytest.raises(api.ErpRejected):
        api.set_erp_control(fail_rate=1.0, latency_ms=0)
    assert issubclass(api.ErpRejected, api.ErpError) and issubclass(api.ErpUnavailable, api.ErpError)
