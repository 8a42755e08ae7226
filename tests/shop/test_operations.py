"""
The operations page (``/admin/operations/``, shop/operations.py) through Django's test client:
staff only, linked from the admin index, live figures after a purchase and a hand-over, the ERP
simulator's controls (a POST with CSRF), and a source that does not answer shown in its place,
never a 500. The browser test is tests/shop/test_operations_browser.py.
"""

import re
import socket

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.models import ErpHandover
from integrations.services import erp as erp_services
from integrations.tasks.erp import erp_deliver_handover
from shop.kernel import metrics as kernel_metrics
from tests.integrations.erp_support import create_shipping_methods, place_orders

pytestmark = pytest.mark.django_db

PAGE = "/admin/operations/"


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{re.escape(name)}">([^<]*)<', html)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def test_only_staff_open_it(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/operations/")

    customer = get_user_model().objects.create_user("c", "c@example.com", "pw")
    client.force_login(customer)
    assert client.get(PAGE).status_code == 302
    assert client.post(PAGE, {"fail_rate": "1", "latency_ms": "0"}).status_code == 302


def test_the_admin_index_links_to_it(staff):
    response = staff.get("/admin/")

    assert response.status_code == 200
    assert f'href="{PAGE}"' in response.text


def test_live_figures_after_a_purchase_and_a_hand_over(
    staff, erp_simulator, django_capture_on_commit_callbacks
):
    create_shipping_methods()
    before = kernel_metrics.funnel_totals().get(("order_placed", "ok"), 0)
    with django_capture_on_commit_callbacks(execute=True):  # the funnel counts on commit
        delivered, waiting = place_orders(2)
    for number in (delivered, waiting):
        erp_services.handover_create(order_number=number, payload={"number": number})
    assert erp_deliver_handover(delivered) == "delivered"
    erp_simulator.control(fail_rate=0.25, latency_ms=40)

    response = staff.get(PAGE)

    assert response.status_code == 200
    html = response.text
    assert figure(html, "orders-placed") == "2"
    assert figure(html, "orders-paid") == "1"  # the delivered one is handed_over now
    assert figure(html, "orders-handed_over") == "1"
    assert figure(html, "checkouts-completed") == "2"
    assert figure(html, "handovers-delivered") == "1"
    assert figure(html, "handovers-pending") == "1"
    assert figure(html, "oldest-pending").startswith(f"{waiting}, waiting ")
    assert figure(html, "breaker-state") == "closed"
    assert int(figure(html, "funnel-order_placed-ok")) == before + 2  # cumulative since the run began
    assert figure(html, "outbox-unsent") == str(kernel_metrics.outbox_state().unsent)
    assert re.fullmatch(r"\d+ s|\d+ min \d+ s|\d+ h \d+ min", figure(html, "outbox-lag"))
    for queue in ("default", "erp", "prices", "exports", "housekeeping"):
        assert figure(html, f"queue-{queue}").isdigit()
    assert (figure(html, "erp-fail-rate"), figure(html, "erp-latency")) == ("0.25", "40 ms")


def test_staff_set_the_simulator_s_fail_rate_and_latency(staff, erp_simulator):
    response = staff.post(PAGE, {"fail_rate": "1", "latency_ms": "1500"})

    assert response.status_code == 302 and response["Location"] == PAGE
    assert erp_simulator.control() == {"fail_rate": 1.0, "latency_ms": 1500}
    page = staff.get(PAGE).text
    assert "ERP simulator set: fail rate 1, latency 1500 ms." in page
    assert (figure(page, "erp-fail-rate"), figure(page, "erp-latency")) == ("1.0", "1500 ms")


def test_values_out_of_range_change_nothing(staff, erp_simulator):
    response = staff.post(PAGE, {"fail_rate": "2", "latency_ms": "-5"})

    assert response.status_code == 200
    assert "The ERP simulator was not changed" in response.text
    assert "Ensure this value is less than or equal to 1" in response.text
    assert erp_simulator.control() == {"fail_rate": 0.0, "latency_ms": 0}


def test_a_post_without_the_csrf_token_is_refused(staff_user, erp_simulator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    assert client.post(PAGE, {"fail_rate": "1", "latency_ms": "0"}).status_code == 403
    assert erp_simulator.control() == {"fail_rate": 0.0, "latency_ms": 0}


def test_an_unreachable_simulator_is_a_clear_message_never_a_500(staff, settings):
    with socket.socket() as probe:  # a free port: nothing listens there once it is closed
        probe.bind(("127.0.0.1", 0))
        settings.ERP_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"

    page = staff.get(PAGE)
    assert page.status_code == 200
    assert "The ERP simulator is not reachable" in page.text

    response = staff.post(PAGE, {"fail_rate": "1", "latency_ms": "0"}, follow=True)
    assert response.status_code == 200
    assert f"The ERP simulator at {settings.ERP_URL} is not reachable" in response.text


def test_a_broker_that_does_not_answer_leaves_the_rest_of_the_page(staff, broker_down, erp_simulator):
    erp_services.handover_create(order_number="ORD-X", payload={"number": "ORD-X"})

    response = staff.get(PAGE)

    assert response.status_code == 200
    assert "the broker did not answer" in response.text
    assert figure(response.text, "handovers-pending") == "1"
    assert ErpHandover.objects.count() == 1


def test_the_funnel_is_the_last_hour_once_beat_took_snapshots(staff):
    from datetime import timedelta

    from django.utils import timezone

    from shop.kernel import funnel
    from shop.kernel.models import FunnelSnapshot

    kernel_metrics.FUNNEL.labels("payment", "payment_declined").inc(2)
    totals = kernel_metrics.funnel_totals()
    FunnelSnapshot.objects.create(  # an hour and a half ago: 2 declines fewer than now
        taken_at=timezone.now() - timedelta(minutes=90),
        source=funnel.source(),
        totals={f"{step}|{outcome}": value for (step, outcome), value in totals.items()}
        | {"payment|payment_declined": totals[("payment", "payment_declined")] - 2},
    )

    html = staff.get(PAGE).text

    assert "Checkout funnel (last 60 minutes)" in html
    assert figure(html, "funnel-payment-aborted") == "2"
    assert "payment_declined 2" in html
