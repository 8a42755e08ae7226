"""The inventory's admin: warehouses edited through the services, the rest read-only."""

import pytest

from inventory import api
from inventory.events import StockChanged
from inventory.models import Reservation, StockLevel, StockMovement, Warehouse
from tests.events import published
from tests.inventory.factories import lines, stock

pytestmark = pytest.mark.django_db


def test_pages_open_and_stock_cannot_be_edited(admin_client):
    stock("A-1", 5)
    api.reserve(reference="checkout-1", lines=lines(**{"A-1": 2}), ttl_seconds=60)

    for model in (Warehouse, StockLevel, Reservation, StockMovement):
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert admin_client.get(base).status_code == 200, opts.label
        change = admin_client.get(f"{base}{model.objects.first().pk}/change/")
        assert change.status_code == 200, opts.label
        if model is not Warehouse:
            assert admin_client.get(f"{base}add/").status_code == 403, opts.label
            assert b'name="_save"' not in change.content, opts.label


def test_deactivating_a_warehouse_goes_through_the_services(admin_client):
    stock("A-1", 5)
    warehouse = Warehouse.objects.get(code="main")
    events = len(published(StockChanged))

    response = admin_client.post(
        f"/admin/inventory/warehouse/{warehouse.pk}/change/",
        {"code": "main", "name": "Main", "priority": 0},  # is_active unticked
    )

    assert response.status_code == 302, response.content
    assert api.get_availability(skus=["A-1"])["A-1"].available == 0
    payloads = published(StockChanged)
    assert len(payloads) == events + 1
    assert payloads[-1] == {"sku": "A-1", "available": 0, "in_stock": False, "in_stock_changed": True}
