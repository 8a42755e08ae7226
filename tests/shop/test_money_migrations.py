"""
The migrations that widen the money columns to numeric(19, 4) keep every stored amount, on
PostgreSQL and SQLite alike, and afterwards a three-decimal price is stored unrounded.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0003_register_skus_with_inventory"), ("checkout", "0004_order_handover_started")]
AFTER = [("catalog", "0004_money_iso4217"), ("checkout", "0005_money_iso4217")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_widening_keeps_the_amounts_and_then_holds_three_decimals():
    try:
        apps = migrate(BEFORE)
        Category = apps.get_model("catalog", "Category")
        Product = apps.get_model("catalog", "Product")
        Variant = apps.get_model("catalog", "Variant")
        Price = apps.get_model("catalog", "Price")
        ShippingRate = apps.get_model("checkout", "ShippingRate")
        category = Category.objects.create(name="Tents", slug="tents", path="/tents/")
        product = Product.objects.create(
            slug="tent", name="Tent", category=category, price_from=Decimal("19.99")
        )
        variant = Variant.objects.create(product=product, sku="T-1", name="T")
        Price.objects.create(variant=variant, currency="EUR", amount=Decimal("19.99"))
        method_rates = ShippingRate.objects.filter(currency="EUR").values_list("pk", "amount")
        rates_before = dict(method_rates)

        apps = migrate(AFTER)

        Price = apps.get_model("catalog", "Price")
        assert Price.objects.get(variant__sku="T-1").amount == Decimal("19.99")
        assert apps.get_model("catalog", "Product").objects.get(slug="tent").price_from == Decimal("19.99")
        ShippingRate = apps.get_model("checkout", "ShippingRate")
        assert dict(ShippingRate.objects.filter(currency="EUR").values_list("pk", "amount")) == rates_before
        Price.objects.create(variant_id=variant.pk, currency="BHD", amount=Decimal("1.234"))
        assert Price.objects.get(currency="BHD").amount == Decimal("1.234")
        rate = ShippingRate.objects.first()
        if rate is not None:
            rate.amount = Decimal("1.2345")
            rate.save()
            rate.refresh_from_db()
            assert rate.amount == Decimal("1.2345")
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
