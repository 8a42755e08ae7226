"""The catalog tells the inventory its SKUs, so that the staff stock endpoint knows them."""

import pytest

from catalog import api as catalog_api
from catalog.data import ProductRow, VariantRow
from inventory import api as inventory_api
from tests.catalog.factories import CategoryFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_a_new_variant_is_known_to_the_inventory(api_client, django_user_model):
    VariantFactory(sku="NEW-1")
    inventory_api.ensure_warehouse(code="main", name="Main")
    staff = django_user_model.objects.create_user("keeper", "keeper@example.com", "pw", is_staff=True)
    api_client.force_authenticate(staff)

    assert inventory_api.is_known_sku(sku="NEW-1")
    assert not inventory_api.is_known_sku(sku="NEW-2")
    response = api_client.put(
        "/api/v1/inventory/stock/NEW-1/", {"warehouse": "main", "on_hand": 4}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["on_hand"] == 4


def test_imported_variants_are_known_to_the_inventory():
    CategoryFactory(slug="tents")
    rows = [ProductRow(slug="tent", name="Tent", category_slug="tents", variants=(VariantRow("T-1", "T"),))]

    catalog_api.upsert_products(rows=rows)

    assert inventory_api.is_known_sku(sku="T-1")
