"""Shipping rates: countries from ISO 3166-1, currencies from ISO 4217, amounts never rounded."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
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


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("staff", "staff@example.com", "pw"))
    return client


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
