"""Checkout's and orders' HTTP representations and inputs."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from checkout.countries import COUNTRY_CODES
from shop.kernel.http.schema import MoneySerializer
from shop.kernel.http.serializers import StrictInputSerializer, StrictUUIDField
from shop.kernel.money import Money


class CheckoutCreateInput(StrictInputSerializer):
    cart_token = StrictUUIDField()


@extend_schema_field({"type": "string", "enum": sorted(COUNTRY_CODES)})
class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code; the schema lists them."""

    def __init__(self, **kwargs):
        super().__init__(min_length=2, max_length=2, **kwargs)


class AddressSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    country = CountryField(help_text="ISO 3166-1 alpha-2, e.g. DE.")

    def validate_country(self, value):
        if value not in COUNTRY_CODES:
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code (e.g. DE).")
        return value


class CheckoutUpdateInput(StrictInputSerializer):
    email = serializers.EmailField(required=False, max_length=254)
    shipping_address = AddressSerializer(required=False)
    shipping_method = serializers.SlugField(required=False, max_length=50)


class OrderAccessQuery(serializers.Serializer):
    token = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The order's access_token (guests), for links in e-mails; prefer the X-Order-Token header.",
    )


class CheckoutCompleteInput(StrictInputSerializer):
    payment_token = serializers.CharField(max_length=200)


class PricedLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer()
    line_total = MoneySerializer()


class CheckoutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    lines = PricedLineSerializer(many=True)
    subtotal = MoneySerializer()
    shipping_method = serializers.CharField(allow_null=True)
    shipping_cost = MoneySerializer(allow_null=True)
    total = MoneySerializer()
    email = serializers.EmailField(allow_null=True)
    shipping_address = AddressSerializer(allow_null=True)
    expires_at = serializers.DateTimeField()


class ShippingMethodSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    price = MoneySerializer()


class OrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer()
    line_total = MoneySerializer()


class OrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    lines = OrderLineSerializer(many=True)
    subtotal = MoneySerializer()
    shipping_cost = MoneySerializer()
    total = MoneySerializer()
    email = serializers.EmailField()
    shipping_address = AddressSerializer()
    shipping_method = serializers.CharField()
    created_at = serializers.DateTimeField()
    erp_reference = serializers.CharField(allow_blank=True)
    cancelable = serializers.BooleanField(
        help_text="Whether the order can still be canceled: false once its hand-over to fulfilment began."
    )


class PlacedOrderSerializer(OrderSerializer):
    access_token = serializers.CharField(help_text="Lets a guest read the order: ?token=<access_token>.")


_ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country")
_DATETIME = serializers.DateTimeField()


def _address(address: dict | None) -> dict | None:
    """``AddressSerializer(address).data`` for a stored address (its fields, ``line2`` defaulting to "")."""
    if address is None:
        return None
    written = {}
    for key in _ADDRESS_FIELDS:
        value = address.get(key, "" if key == "line2" else None)
        if value is not None or key in address:
            written[key] = None if value is None else str(value)
    return written


def _money(value: dict | None) -> dict | None:
    return None if value is None else Money(value["amount"], value["currency"]).as_dict()


def _lines(lines) -> list[dict]:
    return [
        {
            "sku": str(line["sku"]),
            "name": str(line["name"]),
            "quantity": int(line["quantity"]),
            "unit_price": _money(line["unit_price"]),
            "line_total": _money(line["line_total"]),
        }
        for line in lines
    ]


def checkout_representation(data: dict) -> dict:
    """
    ``CheckoutSerializer(data).data``, written directly: every checkout request answers with it.
    The serializer stays the documented shape; tests/checkout/test_checkout.py checks that both
    write the same.
    """
    return {
        "id": str(data["id"]),
        "lines": _lines(data["lines"]),
        "subtotal": _money(data["subtotal"]),
        "shipping_method": None if data["shipping_method"] is None else str(data["shipping_method"]),
        "shipping_cost": _money(data["shipping_cost"]),
        "total": _money(data["total"]),
        "email": None if data["email"] is None else str(data["email"]),
        "shipping_address": _address(data["shipping_address"]),
        "expires_at": _DATETIME.to_representation(data["expires_at"]),
    }


def order_representation(data: dict) -> dict:
    """
    ``OrderSerializer(data).data`` (``PlacedOrderSerializer`` when ``data`` has an
    ``access_token``), written directly: every completion answers with it. The serializers stay
    the documented shape; tests/checkout/test_checkout.py checks that both write the same.
    """
    written = {
        "number": str(data["number"]),
        "status": str(data["status"]),
        "lines": _lines(data["lines"]),
        "subtotal": _money(data["subtotal"]),
        "shipping_cost": _money(data["shipping_cost"]),
        "total": _money(data["total"]),
        "email": str(data["email"]),
        "shipping_address": _address(data["shipping_address"]),
        "shipping_method": str(data["shipping_method"]),
        "created_at": _DATETIME.to_representation(data["created_at"]),
        "erp_reference": str(data["erp_reference"]),
        "cancelable": bool(data["cancelable"]),
    }
    if "access_token" in data:
        written["access_token"] = str(data["access_token"])
    return written
