"""OpenAPI building blocks shared by every context's HTTP layer (drf-spectacular)."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import permissions, serializers

from shop.kernel.http.pagination import CURSOR_PATTERN
from shop.kernel.http.renderers import PROBLEM_CONTENT_TYPE
from shop.kernel.money import Money


class ShopAutoSchema(AutoSchema):
    """
    drf-spectacular's schema of an operation, with the tag of the context that owns it (the first
    package of its view's module, ``shop.`` left out: ``catalog``, ``accounts``, ...), and a
    security requirement only where one is required: an operation open to anonymous callers
    (every permission ``AllowAny``: the catalog, a cart by its token, checkout, an order by its
    token, registration and sign-in) declares none, so the docs show no lock on it.
    """

    def get_tags(self) -> list[str]:
        parts = type(self.view).__module__.split(".")
        if parts[0] == "shop" and len(parts) > 1:
            parts = parts[1:]
        return [parts[0]]

    def get_auth(self):
        if all(isinstance(permission, permissions.AllowAny) for permission in self.view.get_permissions()):
            return []
        return super().get_auth()


class StrictInputSchema(OpenApiSerializerExtension):
    """
    Request bodies of ``StrictInputSerializer``s say ``additionalProperties: false``: the view
    refuses a field it does not declare, so the schema must not allow one.
    """

    target_class = "shop.kernel.http.serializers.StrictInputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        serializer_class = self.target if isinstance(self.target, type) else type(self.target)
        if not serializer_class.__dict__.get("__doc__"):
            schema.pop("description", None)  # StrictInputSerializer's own docstring, inherited
        return schema


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]+(\.[0-9]{1,4})?$",
        "example": "19.99",
        "description": "A decimal string with the currency's minor units (ISO 4217): "
        '"19.99" EUR, "1.500" BHD, "2980" JPY.',
    }
)
class _AmountField(serializers.Field):
    """An amount as the schema describes it; ``MoneySerializer`` writes it (it knows the currency)."""


class MoneySerializer(serializers.Serializer):
    """
    ``{"amount": "19.99", "currency": "EUR"}``: amount a decimal string, never a float, written
    with exactly the currency's minor units (``"1.500"`` BHD), whatever the stored scale.
    """

    amount = _AmountField()
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217.")

    def to_representation(self, instance):
        if isinstance(instance, Money):
            return instance.as_dict()
        return Money(instance["amount"], instance["currency"]).as_dict()


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


def blank_query_parameters_are_absent(result, generator, request, public):
    """
    Postprocessing hook: an optional query parameter sent blank (``?ordering=``) is read as not
    given, as DRF reads a form, so the schema says ``allowEmptyValue`` on each of them.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


NO_NUL_PATTERN = r"^[^\u0000]*$"


def text_without_nul(result, generator, request, public):
    """
    Postprocessing hook: DRF refuses a NUL character in any text field (400 ``invalid``), so a
    text that the client sends (a request body's string, a query parameter) says so in a pattern,
    unless a pattern, an enum or a format already bounds it.
    """

    def bound(schema):
        if not isinstance(schema, dict):
            return
        if schema.get("type") == "string" and not {"pattern", "enum", "format"} & schema.keys():
            schema["pattern"] = NO_NUL_PATTERN
        for key in ("properties", "additionalProperties", "items"):
            value = schema.get(key)
            for sub in value.values() if key == "properties" and isinstance(value, dict) else [value]:
                bound(sub)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key, []):
                bound(sub)

    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: the request side of a serializer
            bound(schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    bound(parameter.get("schema"))
    return result


def problem_responses(*status_codes: int) -> dict:
    """``extend_schema(responses=...)`` entries for the given error statuses."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=_DESCRIPTIONS[code])
        for code in status_codes
    }


PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        {"type": "string", "maxLength": 2000, "pattern": f"^{CURSOR_PATTERN}$"},
        description="Opaque cursor from `next` or `previous`; any other value is a 400 `invalid`.",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1},
        description=f"Items per page, at least 1; more than {settings.API_MAX_PAGE_SIZE} is clamped to "
        f"{settings.API_MAX_PAGE_SIZE}. Default {settings.API_PAGE_SIZE}.",
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
