"""How checkout's HTTP operations answer the exceptions they meet (``shop.kernel.http.problems``)."""

from checkout import errors
from inventory import api as inventory_api
from shop.kernel.http.problems import Maps, ProblemTable


def _shortages(exc: inventory_api.InsufficientStock | inventory_api.ReservationExpired) -> dict:
    return {
        "skus": [shortage.sku for shortage in exc.shortages],
        "shortages": [
            {"sku": s.sku, "requested": s.requested, "available": s.available} for s in exc.shortages
        ],
    }


def _missing(exc: errors.CheckoutIncomplete) -> dict:
    return {"errors": {name: ["Required before completion."] for name in exc.missing}}


PROBLEMS: ProblemTable = {
    errors.CheckoutNotFound: Maps(404, "not_found"),
    errors.EmptyCart: Maps(400, "empty_cart"),
    inventory_api.InsufficientStock: Maps(
        409, "insufficient_stock", "Not enough stock for some items.", _shortages
    ),
    errors.UnknownShippingMethod: Maps(
        400, "invalid_shipping_method", members=lambda exc: {"errors": {"shipping_method": [str(exc)]}}
    ),
    errors.CheckoutNotOpen: Maps(409, "checkout_not_open"),
    errors.CompletionInProgress: Maps(409, "request_in_progress", "This checkout is being completed."),
    errors.CheckoutIncomplete: Maps(400, "checkout_incomplete", members=_missing),
    inventory_api.ReservationExpired: Maps(
        409, "reservation_expired", "The stock can no longer be had.", _shortages
    ),
    errors.PaymentDeclined: Maps(402, "payment_declined", "The payment was declined; try another payment."),
    errors.PaymentTimeout: Maps(
        503, "payment_timeout", "The payment provider did not answer; nothing was charged. Try again."
    ),
    errors.KeyReused: Maps(
        422, "idempotency_key_reused", "This Idempotency-Key was used with another request."
    ),
    errors.RequestInProgress: Maps(
        409, "request_in_progress", "A request with this Idempotency-Key is running."
    ),
    errors.NotCancelable: Maps(409, "not_cancelable"),
}
