"""OpenAPI building blocks shared by every context's HTTP layer (drf-spectacular)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from shop.kernel.http.renderers import PROBLEM_CONTENT_TYPE


class MoneySerializer(serializers.Serializer):
    """``{"amount": "19.99", "currency": "EUR"}``: amount a decimal string, never a float."""

    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField(min_length=3, max_length=3)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every error of the API is answered."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field name to messages, for validation errors.",
    )


_DESCRIPTIONS = {
    400: "Invalid input (`invalid` or a more specific code).",
    401: "No or invalid credentials (`not_authenticated`).",
    403: "Not allowed (`permission_denied`).",
    404: "Not found (`not_found`).",
    405: "Method not allowed (`method_not_allowed`).",
    402: "Payment declined (`payment_declined`).",
    409: "Conflict.",
    422: "Unprocessable.",
    429: "Throttled (`throttled`), with `Retry-After`.",
    503: "A dependency is unavailable (`service_unavailable`), with `Retry-After`.",
}


def problem_responses(*status_codes: int) -> dict:
    """``extend_schema(responses=...)`` entries for the given error statuses."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=_DESCRIPTIONS[code])
        for code in status_codes
    }


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque cursor from `next` or `previous`."),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, description="Items per page, 1..100 (larger is clamped)."
    ),
]


def paginated(item_serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """The schema of a cursor page of ``item_serializer`` items."""
    return inline_serializer(
        name=name,
        fields={
            "results": item_serializer(many=True),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
        },
    )
