"""Prices: ISO 4217 currencies only, and never more decimal places than the currency has."""

from decimal import Decimal

import pytest

from catalog import api as catalog_api
from catalog.events import PriceChanged
from catalog.models import Price
from tests.catalog.factories import VariantFactory, price_of, sellable_product
from tests.events import forget_published, published

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


def price_events() -> dict[str, dict]:
    return {payload["sku"]: payload for payload in published(PriceChanged)}


class TestSetPrices:
    """``catalog.api.set_prices``, the catalog function the import applies each chunk with."""

    def test_reports_changed_unchanged_and_unknown(self, django_capture_on_commit_callbacks):
        sellable_product(price=["10.00", "20.00"], skus=["SP-1", "SP-2"])
        forget_published()

        with django_capture_on_commit_callbacks(execute=True):
            result = catalog_api.set_prices(
                rows=[("SP-1", "11.00", "EUR"), ("SP-2", Decimal("20"), "EUR"), ("NOPE", "1.00", "EUR")]
            )

        assert (result.changed, result.unchanged, result.unknown_skus) == (1, 1, frozenset({"NOPE"}))
        assert list(price_events()) == ["SP-1"]
        assert price_events()["SP-1"]["previous_amount"] == "10.00"

    def test_a_new_currency_is_a_change_from_nothing_and_unknown_rows_count_once_each(self):
        sellable_product(price="10.00", skus=["NC-1"])
        forget_published()

        result = catalog_api.set_prices(
            rows=[
                ("NC-1", "9.00", "CHF"),
                ("NC-1", "10.00", "EUR"),
                ("GONE", "1.00", "EUR"),
                ("GONE", "1.00", "CHF"),
            ]
        )

        assert (result.changed, result.unchanged, result.unknown_skus) == (1, 1, frozenset({"GONE"}))
        assert price_of("NC-1", "CHF") == Decimal("9.00")
        event = price_events()["NC-1"]
        assert (event["currency"], event["amount"], event["previous_amount"]) == ("CHF", "9.00", None)

    def test_a_large_chunk_writes_every_price_event_and_price_from(self):
        """A chunk as an import sends it: on PostgreSQL arrays bound on the server and COPY."""
        products = [
            sellable_product(price=["50.00", "60.00"], skus=[f"LC-{n}-A", f"LC-{n}-B"]) for n in range(80)
        ]
        forget_published()
        rows = [
            (f"LC-{n}-{side}", f"{n + 1}.{'25' if side == 'A' else '75'}", "EUR")
            for n in range(80)
            for side in "AB"
        ]

        result = catalog_api.set_prices(rows=rows)

        assert (result.changed, result.unchanged, result.unknown_skus) == (160, 0, frozenset())
        assert [(p["sku"], p["amount"], p["previous_amount"]) for p in published(PriceChanged)] == [
            (sku, amount, "50.00" if sku.endswith("A") else "60.00") for sku, amount, _ in rows
        ]
        for n, product in enumerate(products):
            product.refresh_from_db()
            assert product.price_from == Decimal(f"{n + 1}.25")

    def test_price_from_ignores_inactive_variants_and_other_currencies(self):
        product = sellable_product(price=["10.00", "20.00"], skus=["PF-1", "PF-2"])
        from catalog import services

        services.variant_update(variant=product.variants.get(sku="PF-2"), is_active=False)
        catalog_api.set_prices(
            rows=[("PF-2", "1.00", "EUR"), ("PF-1", "0.50", "USD"), ("PF-1", "9.00", "EUR")]
        )

        product.refresh_from_db()
        assert product.price_from == Decimal("9.00")

    @pytest.mark.parametrize(
        "rows",
        [
            [("SP-1", "1.00", "EUR"), ("SP-1", "2.00", "EUR")],
            [("SP-1", "-1", "EUR")],
            [("SP-1", "1.001", "EUR")],
            [("SP-1", "1.00", "eur")],
        ],
    )
    def test_bad_rows_raise_and_write_nothing(self, rows):
        sellable_product(price="10.00", skus=["SP-1"])
        with pytest.raises(ValueError):
            catalog_api.set_prices(rows=rows)
        assert price_of("SP-1") == Decimal("10.00")


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
