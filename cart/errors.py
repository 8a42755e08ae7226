"""
What a cart refuses, one exception per fact (the cart's own; a SKU the catalog does not sell and
stock that runs short are ``catalog.api``'s and ``inventory.api``'s exceptions, let through).
``cart/rest_api/problems.py`` says how each is answered over HTTP.
"""

from cart.models import MAX_QUANTITY


class CartNotFound(Exception):
    """The cart went away meanwhile (merged into a customer's cart, or purged)."""


class LineNotFound(Exception):
    """The cart has no line with this id."""


class QuantityTooLarge(ValueError):
    """The line would hold more than ``MAX_QUANTITY``."""

    def __init__(self, quantity: int):
        super().__init__(f"A line holds at most {MAX_QUANTITY}; this change would make it {quantity}.")
        self.quantity = quantity


class TooManyLines(Exception):
    """The cart has ``CART_MAX_LINES`` lines already."""

    def __init__(self, limit: int):
        super().__init__(f"A cart holds at most {limit} lines.")
        self.limit = limit
