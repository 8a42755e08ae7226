"""The catalog's HTTP representations and query parameters."""

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.selectors import ORDERINGS
from shop.kernel.http.schema import MoneySerializer
from shop.kernel.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, Money


class CategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    parent = serializers.CharField(allow_null=True, help_text="The parent's slug; null at the root.")


AMOUNT_PATTERN = "[0-9]{1,10}([.][0-9]{1,4})?"


@extend_schema_field({"type": "string", "pattern": f"^{AMOUNT_PATTERN}$", "example": "19.99"})
class AmountQueryField(serializers.DecimalField):
    """
    A price bound: digits with up to four decimals (``19.99``; ``1.250`` in a shop priced in
    BHD), no sign, exponent or spaces.
    """

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, min_value=0, **kwargs
        )

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(AMOUNT_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductListQuery(serializers.Serializer):
    """The filters of the product list; a value that cannot be read is a 400."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=200, trim_whitespace=True)
    category = serializers.SlugField(required=False, max_length=100)
    price_min = AmountQueryField(required=False, help_text="The lowest `price_from`, e.g. `10` or `9.99`.")
    price_max = AmountQueryField(
        required=False, help_text="The highest `price_from`; less than `price_min` is a 400 `invalid`."
    )
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = serializers.ChoiceField(required=False, choices=sorted(ORDERINGS))

    def validate(self, attrs):
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_max": ["Must not be less than price_min."]})
        return attrs


class ProductListItemSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField(source="category.slug")
    price_from = serializers.SerializerMethodField()
    in_stock = serializers.BooleanField()

    def get_price_from(self, product) -> MoneySerializer:
        return Money(product.price_from, settings.SHOP_CURRENCY).as_dict()


class VariantSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    price = MoneySerializer(allow_null=True)
    in_stock = serializers.BooleanField()


class ProductDetailSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField(help_text="The category's slug.")
    attributes = serializers.DictField(help_text="Attribute code to typed value.")
    variants = VariantSerializer(many=True)
