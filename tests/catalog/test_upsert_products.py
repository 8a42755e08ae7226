"""
``catalog.api.upsert_products`` and ``check_products``: the catalog functions a product import
checks and applies each chunk with (the import itself: tests/integrations/test_product_import.py).
"""

from decimal import Decimal

import pytest

from catalog import api as catalog_api
from catalog.data import ProductRow, VariantRow
from catalog.models import Product
from tests.catalog.factories import CategoryFactory, sellable_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_setup():
    CategoryFactory(slug="tents", name="Tents")
    CategoryFactory(slug="stoves", name="Stoves")


def test_upsert_products_refuses_a_bad_row_naming_its_slug(catalog_setup):
    rows = [ProductRow(slug="fine", name="Fine", category_slug="caves", variants=(VariantRow("F-1", "F"),))]
    with pytest.raises(ValueError, match="'fine'"):
        catalog_api.upsert_products(rows=rows)
    assert not Product.objects.filter(slug="fine").exists()


def test_upsert_products_writes_is_active_and_check_products_wants_a_bool(catalog_setup):
    sellable_product(slug="kettle", price=["30.00", "20.00"], skus=["K-BIG", "K-SMALL"])
    row = ProductRow(
        slug="kettle",
        name="Kettle",
        category_slug="stoves",
        variants=(VariantRow("K-BIG", "Big"), VariantRow("K-SMALL", "Small", is_active=False)),
    )

    result = catalog_api.upsert_products(rows=[row])

    assert (result.products_updated, result.variants_updated) == (1, 2)
    assert Product.objects.get(slug="kettle").price_from == Decimal("30.00")
    odd = ProductRow(
        slug="kettle", name="Kettle", category_slug="stoves", variants=(VariantRow("K-BIG", "Big", "no"),)
    )
    assert catalog_api.check_products(rows=[odd])[0].skus == {
        "K-BIG": "SKU 'K-BIG': is_active must be True or False."
    }
