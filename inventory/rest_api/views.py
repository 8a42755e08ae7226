"""The inventory's HTTP API (staff only): one view per operation."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import api
from inventory.rest_api.serializers import StockSerializer, StockUpdateSerializer
from shop.kernel.http.schema import problem_responses
from shop.kernel.sku import SKU_SCHEMA_PATTERN, SKU_VALIDATOR

SKU_PARAMETER = OpenApiParameter(
    "sku",
    {"type": "string", "pattern": SKU_SCHEMA_PATTERN},
    OpenApiParameter.PATH,
    description="1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit; "
    "anything else is a 400 `invalid`.",
)


def _valid_sku(sku: str) -> str:
    try:
        SKU_VALIDATOR(sku)
    except DjangoValidationError as exc:
        raise ValidationError({"sku": exc.messages}) from None
    return sku


class StockView(APIView):
    """A SKU's stock, in total and per warehouse; staff set what a warehouse has."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="inventory_stock_retrieve",
        summary="Read a SKU's stock",
        parameters=[SKU_PARAMETER],
        responses={200: StockSerializer, **problem_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request, sku: str):
        """
        A SKU's stock (zeros and no warehouses for a catalog SKU not held yet); 404 ``not_found``
        for a SKU the shop does not know.
        """
        stock = api.get_stock(sku=_valid_sku(sku))
        if not stock.warehouses and not api.is_known_sku(sku=sku):
            raise api.UnknownSku(sku)
        return Response(StockSerializer(stock).data)

    @extend_schema(
        operation_id="inventory_stock_update",
        summary="Set a SKU's stock on hand in a warehouse",
        parameters=[SKU_PARAMETER],
        request=StockUpdateSerializer,
        responses={200: StockSerializer, **problem_responses(400, 401, 403, 404, 409, 429)},
    )
    def put(self, request, sku: str):
        """
        Set what a warehouse has of the SKU (e.g. after a count; the first stock of a catalog
        SKU too). 400 ``unknown_warehouse``; 404 ``not_found`` for a SKU the shop does not know;
        409 ``reserved_stock`` below what reservations hold there.
        """
        sku = _valid_sku(sku)
        body = StockUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not api.is_known_sku(sku=sku):
            raise api.UnknownSku(sku)
        stock = api.set_on_hand(
            sku=sku,
            warehouse=body.validated_data["warehouse"],
            on_hand=body.validated_data["on_hand"],
            reason=f"staff:{request.user.get_username()}"[:100],
        )
        return Response(StockSerializer(stock).data)
