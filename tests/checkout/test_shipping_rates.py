"""Shipping rates: countries from ISO 3166-1, currencies from ISO 4217, amounts never rounded."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from checkout.models import ShippingMethod, ShippingRate

pytestmark = pytest.mark.django_db


@pytest.fixture
def method():
    return ShippingMethod.objects.create(code="courier", name="Courier")


def rate(method, **fields) -> ShippingRate:
    return ShippingRate(
        method=method, **{"country": "DE", "amount": Decimal("4.90"), "currency": "EUR", **fields}
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "de"}, "country"),
        ({"country": "EU"}, "country"),
        ({"currency": "ABC"}, "currency"),
        ({"currency": "XAU"}, "currency"),
        ({"amount": Decimal("4.999")}, "amount"),
        ({"amount": Decimal("100.5"), "currency": "VND"}, "amount"),
    ],
    ids=["XX", "lower-case", "EU", "ABC", "gold", "EUR-3-places", "VND-1-place"],
)
def test_the_model_refuses(method, fields, field):
    with pytest.raises(ValidationError) as raised:
        rate(method, **fields).full_clean()
    assert field in raised.value.message_dict


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"country": "*"}, Decimal("4.90")),
        ({"country": "CH", "currency": "CHF", "amount": Decimal("9.9")}, Decimal("9.90")),
        ({"country": "BH", "currency": "BHD", "amount": Decimal("1.234")}, Decimal("1.234")),
        ({"country": "VN", "currency": "VND", "amount": Decimal("25000")}, Decimal("25000")),
    ],
)
def test_the_model_accepts_and_stores_exactly(method, fields, stored):
    shipping_rate = rate(method, **fields)
    shipping_rate.full_clean()
    shipping_rate.save()
    shipping_rate.refresh_from_db()
    assert shipping_rate.amount == stored


def _admin_form(method_code: str, country: str, currency: str = "EUR", amount: str = "4.90") -> dict:
    return {
        "code": method_code,
        "name": "Courier",
        "is_active": "on",
        "position": "0",
        "rates-TOTAL_FORMS": "1",
        "rates-INITIAL_FORMS": "0",
        "rates-MIN_NUM_FORMS": "0",
        "rates-MAX_NUM_FORMS": "1000",
        "rates-0-country": country,
        "rates-0-currency": currency,
        "rates-0-amount": amount,
    }


@pytest.mark.parametrize(
    ("country", "currency", "amount"),
    [("XX", "EUR", "4.90"), ("DE", "EUR", "4.999"), ("DE", "ABC", "4.90")],
    ids=["country-XX", "EUR-3-places", "currency-ABC"],
)
def test_the_admin_refuses(admin_client, country, currency, amount):
    response = admin_client.post(
        "/admin/checkout/shippingmethod/add/", _admin_form("courier", country, currency, amount)
    )

    assert response.status_code == 200  # the form again, with its errors
    assert not ShippingMethod.objects.filter(code="courier").exists()
    assert not ShippingRate.objects.filter(method__code="courier").exists()


def test_the_admin_saves_a_valid_rate(admin_client):
    response = admin_client.post(
        "/admin/checkout/shippingmethod/add/", _admin_form("courier", "BH", "BHD", "1.250")
    )

    assert response.status_code == 302, response.content
    assert ShippingRate.objects.get(method__code="courier").amount == Decimal("1.250")


def test_an_order_in_a_three_decimal_currency_keeps_its_fils(api_client, settings):
    """A shop priced in BHD: line, shipping and totals stored and shown with three decimals."""
    from catalog import api as catalog_api
    from inventory import api as inventory_api
    from tests.catalog.factories import ProductFactory, VariantFactory
    from tests.checkout.support import complete, ready_checkout

    settings.SHOP_CURRENCY = "BHD"
    variant = VariantFactory(product=ProductFactory(), sku="DALLAH-1")
    catalog_api.set_price(sku=variant.sku, amount="1.234", currency="BHD")
    ShippingRate.objects.create(
        method=ShippingMethod.objects.get(code="standard"),
        country="DE",
        currency="BHD",
        amount=Decimal("2.005"),
    )
    inventory_api.ensure_warehouse(code="MAIN", name="Main")
    inventory_api.set_on_hand(sku="DALLAH-1", warehouse="MAIN", on_hand=5)

    checkout = ready_checkout(api_client, {"DALLAH-1": 3})
    assert checkout["subtotal"] == {"amount": "3.702", "currency": "BHD"}
    assert checkout["shipping_cost"] == {"amount": "2.005", "currency": "BHD"}
    placed = complete(api_client, checkout["id"])
    assert placed.status_code == 201, placed.content
    order = placed.json()

    shown = api_client.get(f"/api/v1/orders/{order['number']}/", {"token": order["access_token"]}).json()
    for body in (order, shown):
        assert body["lines"][0]["unit_price"] == {"amount": "1.234", "currency": "BHD"}
        assert body["lines"][0]["line_total"] == {"amount": "3.702", "currency": "BHD"}
        assert body["subtotal"] == {"amount": "3.702", "currency": "BHD"}
        assert body["shipping_cost"] == {"amount": "2.005", "currency": "BHD"}
        assert body["total"] == {"amount": "5.707", "currency": "BHD"}
