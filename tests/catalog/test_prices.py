"""Prices: ISO 4217 currencies only, and never more decimal places than the currency has."""

from decimal import Decimal

import pytest

from catalog import api as catalog_api
from catalog.models import Price
from tests.catalog.factories import VariantFactory, sellable_product

pytestmark = pytest.mark.django_db


class TestSetPrice:
    def test_a_euro_price_with_three_decimals_is_refused_not_rounded(self):
        product = sellable_product(price="5.00")
        sku = product.variants.get().sku

        with pytest.raises(ValueError, match=r"more than 2 decimal places for EUR .*not rounded"):
            catalog_api.set_price(sku=sku, amount="19.999", currency="EUR")

        assert Price.objects.get(variant__sku=sku).amount == Decimal("5.00")

    def test_three_decimals_are_stored_for_a_three_decimal_currency(self):
        variant = VariantFactory(sku="D-1")

        money = catalog_api.set_price(sku="D-1", amount="1.234", currency="KWD")

        assert money.as_dict() == {"amount": "1.234", "currency": "KWD"}
        assert Price.objects.get(variant=variant, currency="KWD").amount == Decimal("1.234")

    @pytest.mark.parametrize("currency", ["ABC", "XAU", "eur"])
    def test_a_code_iso_4217_does_not_list_is_refused(self, currency):
        VariantFactory(sku="D-1")

        with pytest.raises(ValueError, match="ISO 4217"):
            catalog_api.set_price(sku="D-1", amount="1.00", currency=currency)
        assert not Price.objects.exists()


class TestAdmin:
    @staticmethod
    def form(variant, currency: str, amount: str) -> dict:
        return {
            "product": variant.product_id,
            "sku": variant.sku,
            "name": variant.name,
            "position": "0",
            "is_active": "on",
            "prices-TOTAL_FORMS": "1",
            "prices-INITIAL_FORMS": "0",
            "prices-MIN_NUM_FORMS": "0",
            "prices-MAX_NUM_FORMS": "1000",
            "prices-0-currency": currency,
            "prices-0-amount": amount,
        }

    @pytest.mark.parametrize(
        ("currency", "amount", "message"),
        [
            ("EUR", "19.999", "An amount in EUR has at most 2 decimal places"),
            ("JPY", "100.5", "An amount in JPY has no decimal places"),
            ("ABC", "1.00", "Select a valid choice"),
        ],
    )
    def test_a_price_edit_is_refused_with_a_message(self, admin_client, currency, amount, message):
        variant = VariantFactory()

        response = admin_client.post(
            f"/admin/catalog/variant/{variant.pk}/change/", self.form(variant, currency, amount)
        )

        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Price.objects.exists()

    def test_a_bhd_price_is_saved_exactly(self, admin_client):
        variant = VariantFactory()

        response = admin_client.post(
            f"/admin/catalog/variant/{variant.pk}/change/", self.form(variant, "BHD", "1.234")
        )

        assert response.status_code == 302, response.content
        assert Price.objects.get(variant=variant).amount == Decimal("1.234")


@pytest.mark.parametrize(
    ("currency", "errors"), [("EUR", []), ("BHD", []), ("eur", ["catalog.E001"]), ("XX", ["catalog.E001"])]
)
def test_the_shop_currency_is_checked_at_start_up(settings, currency, errors):
    from catalog.apps import check_shop_currency

    settings.SHOP_CURRENCY = currency

    assert [message.id for message in check_shop_currency()] == errors
