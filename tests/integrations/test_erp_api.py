"""Staff see and retry ERP hand-overs (the OpenAPI schema, tag integrations) over HTTP and in the admin."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import ErpHandover
from tests.checkout.support import signed_in_client

pytestmark = pytest.mark.django_db
LIST_URL = "/api/v1/integrations/handovers/"


def _retry_url(number: str) -> str:
    return f"/api/v1/integrations/handovers/{number}/retry/"


def _handover(number: str, status: str = "pending", **fields) -> ErpHandover:
    return ErpHandover.objects.create(
        order_number=number, payload={"number": number}, status=status, **fields
    )


def test_staff_list_hand_overs_newest_first_filtered_by_status(staff_client):
    _handover("SO-1", "delivered", attempts=1, erp_reference="ERP-1")
    _handover("SO-2", "failed", attempts=8, last_error="HTTP 503")
    _handover("SO-3", "pending")

    response = staff_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert [row["order_number"] for row in body["results"]] == ["SO-3", "SO-2", "SO-1"]
    assert body["results"][1] == {
        "order_number": "SO-2",
        "status": "failed",
        "attempts": 8,
        "last_error": "HTTP 503",
        "erp_reference": "",
    }
    failed = staff_client.get(LIST_URL, {"status": "failed"}).json()["results"]
    assert [row["order_number"] for row in failed] == ["SO-2"]
    delivered = staff_client.get(LIST_URL, {"status": "delivered"}).json()["results"]
    assert [(row["order_number"], row["erp_reference"]) for row in delivered] == [("SO-1", "ERP-1")]


def test_the_list_is_keyset_paginated_in_constant_queries(staff_client):
    for index in range(5):
        _handover(f"SO-{index}")
    first = staff_client.get(LIST_URL, {"page_size": 2}).json()
    second = staff_client.get(first["next"]).json()
    assert [row["order_number"] for row in first["results"] + second["results"]] == [
        "SO-4",
        "SO-3",
        "SO-2",
        "SO-1",
    ]

    with CaptureQueriesContext(connection) as small:
        staff_client.get(LIST_URL, {"page_size": 1})
    with CaptureQueriesContext(connection) as large:
        staff_client.get(LIST_URL, {"page_size": 5})
    assert len(small) == len(large)


def test_a_bad_status_is_400_invalid(staff_client):
    response = staff_client.get(LIST_URL, {"status": "lost"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "status" in response.json()["errors"]


def test_anonymous_is_401_and_customers_403(api_client):
    assert api_client.get(LIST_URL).status_code == 401
    assert api_client.post(_retry_url("SO-1")).status_code == 401
    customer = signed_in_client("customer-erp@example.com")
    assert customer.get(LIST_URL).status_code == 403
    assert customer.post(_retry_url("SO-1")).status_code == 403


def test_retry_resets_a_failed_hand_over_and_queues_it(staff_client, django_capture_on_commit_callbacks):
    _handover("SO-1", "failed", attempts=8, last_error="HTTP 503")

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(_retry_url("SO-1"))

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["attempts"] == 0
    handover = ErpHandover.objects.get(order_number="SO-1")
    assert (handover.status, handover.attempts) == ("pending", 0)
    assert len(callbacks) == 1  # the delivery task, sent after commit


def test_retry_of_an_unknown_hand_over_is_404_and_of_one_not_failed_409(staff_client):
    response = staff_client.post(_retry_url("SO-NONE"))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")

    _handover("SO-1", "delivered", erp_reference="ERP-1")
    response = staff_client.post(_retry_url("SO-1"))
    assert (response.status_code, response.json()["code"]) == (409, "not_failed")
    assert ErpHandover.objects.get(order_number="SO-1").status == "delivered"


def test_admin_lists_filters_and_retries(admin_client, django_capture_on_commit_callbacks):
    failed = _handover("SO-1", "failed", attempts=8)
    delivered = _handover("SO-2", "delivered", erp_reference="ERP-2")
    url = reverse("admin:integrations_erphandover_changelist")

    assert admin_client.get(url, {"status__exact": "failed"}).status_code == 200
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            url, {"action": "retry", "_selected_action": [failed.pk, delivered.pk]}, follow=True
        )

    assert response.status_code == 200
    assert ErpHandover.objects.get(pk=failed.pk).status == "pending"
    assert ErpHandover.objects.get(pk=delivered.pk).status == "delivered"
