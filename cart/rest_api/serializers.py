"""
The cart's HTTP representations and request bodies.

Request bodies are strict (the kernel's ``StrictInputSerializer``): a field the operation does
not know (``price``, ``customer_id``, …) is refused with a 400 rather than ignored, so that a
client can neither set what it must not (mass assignment) nor believe it did; quantities are
JSON integers, not strings, floats or booleans.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cart.models import MAX_QUANTITY
from shop.kernel.http.schema import MoneySerializer
from shop.kernel.http.serializers import StrictInputSerializer, StrictIntegerField
from shop.kernel.money import Money


class StrictCharField(serializers.CharField):
    """A JSON string only: numbers are not turned into strings."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(MoneySerializer)
class MoneyField(serializers.Field):
    """A ``Money`` as ``{"amount": "19.99", "currency": "EUR"}``, however large the amount."""

    def to_representation(self, value: Money) -> dict[str, str]:
        return value.as_dict()


class CartCreateSerializer(StrictInputSerializer):
    """An empty object: a cart starts empty and is owned by whoever is signed in."""


class CartMergeSerializer(StrictInputSerializer):
    """An empty object: the cart to merge is in the URL, the customer's is the signed-in one's."""


class LineAddSerializer(StrictInputSerializer):
    # A SKU is an exact identifier: not trimmed, so that a string of spaces or control characters
    # (schema-valid: the schema asks for 1-64 characters) is a SKU the shop does not know, 400
    # `unknown_sku`, as any other, not a blank field.
    sku = StrictCharField(max_length=64, trim_whitespace=False)
    quantity = StrictIntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text=f"A whole number from 1 to {MAX_QUANTITY}."
    )


class LineUpdateSerializer(StrictInputSerializer):
    quantity = StrictIntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        help_text=f"A whole number from 0 to {MAX_QUANTITY}; 0 removes the line.",
    )


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text="The product's name and the variant's.")
    product_slug = serializers.CharField(allow_null=True, help_text="Null when the SKU is unknown.")
    quantity = serializers.IntegerField()
    unit_price = MoneyField(allow_null=True, help_text="The catalog's current price; null if not sellable.")
    line_total = MoneyField(allow_null=True, help_text="unit_price times quantity; null if not sellable.")
    sellable = serializers.BooleanField(
        help_text="False when the catalog no longer sells the SKU: left out of the subtotal, refused "
        "by checkout."
    )


class CartSerializer(serializers.Serializer):
    token = serializers.UUIDField(help_text="The cart's id; keep it secret, it gives access to the cart.")
    lines = CartLineSerializer(many=True)
    subtotal = MoneyField(help_text="The sum of the sellable lines at the catalog's current prices.")
    item_count = serializers.IntegerField(help_text="The sum of the quantities of all lines.")


def _money(value: Money | None) -> dict[str, str] | None:
    return None if value is None else value.as_dict()


def cart_data(detail: dict) -> dict:
    """
    ``CartSerializer(detail).data``, written directly: every cart answer (an add to the cart is a
    hot path) without building a serializer and its fields each time. ``CartSerializer`` stays the
    documented shape; tests/cart/test_cart_api.py checks that both write the same.
    """
    return {
        "token": str(detail["token"]),
        "lines": [
            {
                "id": line["id"],
                "sku": line["sku"],
                "name": line["name"],
                "product_slug": line["product_slug"],
                "quantity": line["quantity"],
                "unit_price": _money(line["unit_price"]),
                "line_total": _money(line["line_total"]),
                "sellable": line["sellable"],
            }
            for line in detail["lines"]
        ],
        "subtotal": detail["subtotal"].as_dict(),
        "item_count": detail["item_count"],
    }
