"""
Integrations in ``/metrics``: a hand-over against the ERP simulator set to fail shows as an
``unavailable`` call of ``erp_handover`` with its latency, a ``retrying`` attempt, the backlog by
status and the circuit breaker; the jobs (imports, exports) by interface and outcome.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from integrations.models import ErpHandover
from integrations.services import erp as erp_services
from integrations.tasks.erp import erp_deliver_handover
from tests.integrations.erp_support import create_shipping_methods, place_orders

pytestmark = pytest.mark.django_db

SECONDS = "shop_integration_duration_seconds_count"


@pytest.fixture
def order_number(settings):
    settings.ERP_BREAKER_THRESHOLD = 2
    settings.ERP_BREAKER_COOLDOWN_SECONDS = 60.0
    settings.ERP_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.ERP_READ_TIMEOUT_SECONDS = 2.0
    create_shipping_methods()
    number = place_orders(1)[0]
    erp_services.handover_create(order_number=number, payload={"number": number})
    return number


def _make_due(number: str) -> None:
    ErpHandover.objects.filter(order_number=number).update(next_attempt_at=timezone.now())


def test_a_failing_erp_shows_in_latency_outcomes_backlog_and_breaker(erp_simulator, order_number, scrape):
    erp_simulator.control(fail_rate=1.0)
    before = scrape()
    assert before.value("shop_erp_handovers", status="pending") == 1
    assert before.value("shop_integration_breaker_open", interface="erp_handover") == 0

    results = []
    for _ in range(3):
        results.append(erp_deliver_handover(order_number))
        _make_due(order_number)

    after = scrape()
    assert results == ["retrying", "retrying", "deferred"]  # the third finds the breaker open
    assert after.delta(before, SECONDS, interface="erp_handover", outcome="unavailable") == 2
    assert after.delta(before, SECONDS, interface="erp_handover", outcome="ok") == 0
    buckets = after.series("shop_integration_duration_seconds_bucket")
    assert {"interface": "erp_handover", "outcome": "unavailable", "le": "+Inf"} in buckets
    assert after.delta(before, "shop_erp_handover_attempts_total", result="retrying") == 2
    assert after.delta(before, "shop_erp_handover_attempts_total", result="deferred") == 1
    assert after.value("shop_erp_handovers", status="pending") == 1
    assert after.value("shop_erp_handovers", status="failed") == 0
    assert after.value("shop_erp_handover_oldest_pending_age_seconds") > 0
    assert after.value("shop_integration_breaker_open", interface="erp_handover") == 1
    assert after.value("shop_integration_breaker_failures", interface="erp_handover") == 2

    # The ERP back, the breaker cooled down: delivered, and the backlog empty.
    erp_simulator.control(fail_rate=0.0)
    erp_services.erp_client.breaker.record_success()
    _make_due(order_number)
    assert erp_deliver_handover(order_number) == "delivered"
    done = scrape()
    assert done.delta(after, SECONDS, interface="erp_handover", outcome="ok") == 1
    assert done.value("shop_erp_handovers", status="pending") == 0
    assert done.value("shop_integration_breaker_open", interface="erp_handover") == 0


def test_an_import_and_an_export_count_by_interface_and_outcome(
    staff_client, scrape, django_capture_on_commit_callbacks
):
    from integrations.services import exports, price_import

    before = scrape()
    upload = SimpleUploadedFile("prices.csv", b"sku,amount,currency\nNO-SUCH-SKU,1.00,EUR\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        created = staff_client.post(
            "/api/v1/integrations/price-imports/", {"file": upload}, format="multipart"
        )
        assert created.status_code == 202, created.content
        price_import.price_import_run(job_id=created.json()["id"])
        export = staff_client.post("/api/v1/integrations/exports/", {"format": "csv"}, format="json")
        exports.export_build(export.json()["id"])

    after = scrape()
    assert after.delta(before, SECONDS, interface="price_import", outcome="done") == 1
    assert (
        after.delta(before, "shop_integration_rows_total", interface="price_import", result="rejected") == 1
    )
    assert after.delta(before, SECONDS, interface="export", outcome="done") == 1
