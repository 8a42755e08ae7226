"""How the cart's HTTP operations answer the exceptions they meet (``shop.kernel.http.problems``)."""

from cart import errors
from catalog import api as catalog_api
from inventory import api as inventory_api
from shop.kernel.http.problems import Maps, ProblemTable


def _shortage(exc: inventory_api.InsufficientStock) -> dict:
    shortage = exc.shortages[0]  # a cart checks one SKU at a time
    return {"sku": shortage.sku, "available": shortage.available}


def _short_detail(exc: inventory_api.InsufficientStock) -> str:
    shortage = exc.shortages[0]
    return f"Only {shortage.available} of {shortage.sku!r} available."


_NOT_SOLD = Maps(400, "unknown_sku", members=lambda exc: {"errors": {"sku": ["Unknown or not for sale."]}})

PROBLEMS: ProblemTable = {
    errors.CartNotFound: Maps(404, "not_found", "No cart with this token."),
    errors.LineNotFound: Maps(404, "not_found", "The cart has no line with this id."),
    errors.QuantityTooLarge: Maps(400, "invalid", members=lambda exc: {"errors": {"quantity": [str(exc)]}}),
    errors.TooManyLines: Maps(400, "too_many_lines", members=lambda exc: {"limit": exc.limit}),
    catalog_api.UnknownSku: _NOT_SOLD,
    catalog_api.NotForSale: _NOT_SOLD,
    inventory_api.InsufficientStock: Maps(409, "insufficient_stock", _short_detail, _shortage),
}
