"""How inventory's HTTP operations answer the exceptions they meet (``shop.kernel.http.problems``)."""

from inventory import api
from shop.kernel.http.problems import Maps, ProblemTable

PROBLEMS: ProblemTable = {
    api.UnknownSku: Maps(404, "not_found"),
    api.UnknownWarehouse: Maps(
        400, "unknown_warehouse", members=lambda exc: {"errors": {"warehouse": ["Unknown warehouse."]}}
    ),
    api.BelowReserved: Maps(409, "reserved_stock", members=lambda exc: {"reserved": exc.reserved}),
}
