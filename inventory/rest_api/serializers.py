"""The inventory's HTTP representations."""

from rest_framework import serializers

from inventory.models import MAX_QUANTITY
from shop.kernel.http.serializers import StrictInputSerializer


class StrictIntegerField(serializers.IntegerField):
    """An integer given as a JSON integer: not a string, a float (``1.0``, ``1e2``) or a boolean."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class WarehouseStockSerializer(serializers.Serializer):
    code = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField(help_text="Held by reservations that have not expired.")


class StockSerializer(serializers.Serializer):
    sku = serializers.CharField()
    on_hand = serializers.IntegerField(help_text="In every warehouse.")
    reserved = serializers.IntegerField(help_text="Held by reservations that have not expired.")
    available = serializers.IntegerField(
        help_text="What can be sold: on hand less reserved, active warehouses."
    )
    warehouses = WarehouseStockSerializer(many=True, help_text="In the order stock is taken from them.")


class StockUpdateSerializer(StrictInputSerializer):
    warehouse = serializers.CharField(max_length=32, help_text="The warehouse's code.")
    on_hand = StrictIntegerField(min_value=0, max_value=MAX_QUANTITY)
