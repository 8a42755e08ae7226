"""
The benchmark's check after a run (benchmarks/http/shop_data.py): every order the run placed must
have reached the ERP, whatever older orders the database holds.
"""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from benchmarks.http.shop_data import check
from integrations.models import ErpHandover
from tests.checkout.support import complete, ready_checkout, stocked_skus

pytestmark = pytest.mark.django_db


def test_the_check_counts_the_orders_placed_since_the_runs_start_that_did_not_reach_the_erp():
    client = APIClient()
    (sku,) = stocked_skus(10)
    before = timezone.now()
    placed = complete(client, ready_checkout(client, {sku: 1})["id"])
    assert placed.status_code == 201, placed.content
    number = placed.json()["number"]

    found = check(since=before)
    assert (found["orders_placed"], found["orders_undelivered"]) == (1, 1)  # no hand-over yet

    handover = ErpHandover.objects.create(order_number=number, payload={}, status=ErpHandover.Status.PENDING)
    assert check(since=before)["orders_undelivered"] == 1  # recorded, not delivered
    handover.status = ErpHandover.Status.DELIVERED
    handover.save()
    assert check(since=before)["orders_undelivered"] == 0

    later = check(since=timezone.now())
    assert (later["orders_placed"], later["orders_undelivered"]) == (0, 0)  # an older order is not the run's
    assert "orders_placed" not in check()
