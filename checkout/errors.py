"""
What checkout refuses, one exception per fact: its services raise them where the fact is
detected, ``checkout.api`` lets them through to other contexts (integrations), and
``checkout/rest_api/problems.py`` says how each is answered over HTTP. Stock that is short or a
reservation that is gone are inventory's facts: ``inventory.api.InsufficientStock`` and
``inventory.api.ReservationExpired`` pass through checkout unchanged.
"""

from checkout.models import Order

CANCELED = Order.Status.CANCELED


class CheckoutNotFound(Exception):
    """No checkout with this id that the customer (or guest) may see."""

    def __init__(self) -> None:
        super().__init__("No such checkout.")


class EmptyCart(Exception):
    """A checkout cannot start from a cart without lines."""

    def __init__(self) -> None:
        super().__init__("The cart is empty.")


class CheckoutIncomplete(Exception):
    """Completion needs these (``missing``: ``email``, ``shipping_address``, ``shipping_method``)."""

    def __init__(self, missing: list[str]):
        super().__init__(f"Missing: {', '.join(missing)}.")
        self.missing = missing


class CheckoutNotOpen(Exception):
    """The checkout is completed (or being completed) and can no longer change."""

    def __init__(self, status: str):
        super().__init__(f"The checkout is {status}.")
        self.status = status


class CompletionInProgress(CheckoutNotOpen):
    """Another completion of this checkout is running (its payment may be under way)."""

    def __init__(self) -> None:
        super().__init__("completing")


class UnknownShippingMethod(ValueError):
    """The shipping method is not offered for the checkout's address (or does not exist)."""

    def __init__(self, code: str):
        super().__init__(f"Shipping method {code!r} is not offered for this address.")
        self.code = code


class PaymentDeclined(Exception):
    """The provider refused the payment; nothing was charged."""


class PaymentTimeout(Exception):
    """The provider did not answer in time; nothing was charged (the charge is voided if late)."""


class KeyReused(Exception):
    """The ``Idempotency-Key`` was used with another request body."""


class RequestInProgress(Exception):
    """The first request with this ``Idempotency-Key`` is still running."""


class UnknownOrder(LookupError):
    """No order has this number."""

    def __init__(self, number: str):
        super().__init__(f"No order has the number {number!r}.")
        self.number = number


class IllegalTransition(Exception):
    """The order's status machine has no step from ``current`` to ``wanted``."""

    def __init__(self, current: str, wanted: str, message: str = ""):
        super().__init__(message or f"An order that is {current} cannot become {wanted}.")
        self.current = current
        self.wanted = wanted


class NotCancelable(IllegalTransition):
    """The order can no longer be canceled (handed over, shipped, completed)."""

    def __init__(self, current: str, message: str = ""):
        super().__init__(current, CANCELED, message or f"An order that is {current} cannot be canceled.")


class FulfilmentStarted(NotCancelable):
    """The order's hand-over to fulfilment has begun (the ERP may have it): no cancel any more."""

    def __init__(self, current: str):
        super().__init__(
            current, "The order is being handed over to fulfilment and can no longer be canceled."
        )


class OrderCanceled(IllegalTransition):
    """The order was canceled: it must not be handed over to fulfilment."""

    def __init__(self, wanted: str):
        super().__init__(CANCELED, wanted, f"The order was canceled; it cannot become {wanted}.")
