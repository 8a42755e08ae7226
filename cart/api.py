"""
The cart's public functions: the only ones other contexts (checkout) may call.

A cart crosses the border as ``cart.data`` dataclasses: SKUs and quantities, never prices (the
catalog prices a cart when it is read) and never models.
"""

import uuid
from collections.abc import Sequence

from cart import selectors, services
from cart.data import CartData, CartLineData


def get_cart(*, token: uuid.UUID | str, customer_id: int | None) -> CartData | None:
    """
    Return the cart ``token`` as ``customer_id`` (None: an anonymous client) may see it, or None.

    The rule is the HTTP API's: an anonymous cart is visible to whoever holds its token, a
    customer's cart to that customer only; an unknown or malformed token gives None too. The
    lines are a snapshot: checkout reserves what it read, and ``remove_ordered`` later takes out
    only what was ordered. Two queries, in one round trip on PostgreSQL.
    """
    cart, lines = selectors.cart_with_lines_for(token=token, customer_id=customer_id)
    if cart is None:
        return None
    return CartData(
        token=cart.token,
        customer_id=cart.customer_id,
        lines=tuple(CartLineData(sku=line.sku, quantity=line.quantity) for line in lines),
    )


def remove_ordered(*, token: uuid.UUID | str, lines: Sequence[CartLineData]) -> None:
    """
    Take what an order bought out of the cart ``token``: each line goes down by the quantity
    ordered of its SKU and goes when nothing is left, keeping the cart. Lines added, or grown,
    after the checkout took its snapshot stay for a next order. Checkout calls this once per
    order, inside its own transaction, so both commit or neither does. An unknown or a malformed
    token is left alone.

    Raises:
        ValueError: a quantity is not a positive integer.
    """
    ordered: dict[str, int] = {}
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            raise ValueError(f"Not an ordered quantity: {line.quantity!r}.")
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
    parsed = selectors.parse_token(token)
    if parsed is not None and ordered:
        services.cart_remove_ordered(token=parsed, ordered=ordered)
