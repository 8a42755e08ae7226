"""
The cart's public functions: the only ones other contexts (checkout) may call.

A cart crosses the border as ``cart.data`` dataclasses: SKUs and quantities, never prices (the
catalog prices a cart when it is read) and never models.
"""

import uuid

from cart import selectors, services
from cart.data import CartData, CartLineData


def get_cart(*, token: uuid.UUID | str, customer_id: int | None, for_update: bool = False) -> CartData | None:
    """
    Return the cart ``token`` as ``customer_id`` (None: an anonymous client) may see it, or None.

    The rule is the HTTP API's: an anonymous cart is visible to whoever holds its token, a
    customer's cart to that customer only; an unknown or malformed token gives None too.
    ``for_update`` locks the cart row until the end of the caller's transaction, so that no line
    changes between reading the cart and ``clear_cart`` (the cart's own writes take the same
    lock). Two queries.

    Raises:
        django.db.transaction.TransactionManagementError: ``for_update`` outside a transaction.
    """
    cart = selectors.cart_for(token=token, customer_id=customer_id, for_update=for_update)
    if cart is None:
        return None
    return CartData(
        token=cart.token,
        customer_id=cart.customer_id,
        lines=tuple(
            CartLineData(sku=line.sku, quantity=line.quantity) for line in selectors.cart_lines(cart.pk)
        ),
    )


def clear_cart(*, token: uuid.UUID | str) -> None:
    """
    Remove every line of the cart ``token``, keeping the (now empty) cart. Checkout calls this
    inside its own transaction once an order is placed, so both commit or neither does.
    Idempotent: an empty cart, an unknown or a malformed token is left as it is.

    Raises:
        Nothing.
    """
    parsed = selectors.parse_token(token)
    if parsed is not None:
        services.cart_clear(token=parsed)
