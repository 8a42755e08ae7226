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


@pytest.mark.postgres  # the benchmark runs on PostgreSQL only (its reads use arrays)
def test_the_top_up_releases_expired_reservations_as_beats_sweep_would_and_refills_the_pool(tmp_path):
    from benchmarks.http.shop_data import WAREHOUSE, topup
    from inventory import api as inventory_api
    from inventory.data import StockLine
    from inventory.models import Reservation, StockLevel
    from tests.inventory.factories import expire

    inventory_api.ensure_warehouse(code=WAREHOUSE, name="Main", priority=0)
    inventory_api.set_on_hand(sku="BENCH-1", warehouse=WAREHOUSE, on_hand=10)
    for reference in ("abandoned", "open"):
        lines = [StockLine(sku="BENCH-1", quantity=3)]
        inventory_api.reserve(reference=reference, lines=lines, ttl_seconds=900)
    expire("abandoned")
    skus = tmp_path / "skus.txt"
    skus.write_text("BENCH-1\n", encoding="utf-8")

    result = topup(skus_file=skus, level=100, below=50)

    assert result["expired_released"] == 1
    assert list(Reservation.objects.values_list("reference", flat=True)) == ["open"]
    row = StockLevel.objects.get(sku="BENCH-1")
    assert (row.on_hand - row.reserved, row.reserved) == (100, 3)  # refilled around what stays reserved
    assert topup(skus_file=skus, level=100, below=50)["expired_released"] == 0
