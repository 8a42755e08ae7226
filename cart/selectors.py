"""The cart's reads: a cart by token for whoever asks, and the cart as the API shows it."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection

from cart.models import Cart, CartLine
from catalog import api as catalog_api
from catalog.data import Quote
from shop.kernel.db import Statement, as_datetime, as_uuid, fetch, run_together


def parse_token(token: uuid.UUID | str) -> uuid.UUID | None:
    """``token`` as a UUID, or None when it is not one."""
    if isinstance(token, uuid.UUID):
        return token
    try:
        return uuid.UUID(str(token))
    except ValueError:
        return None


def cart_for(*, token: uuid.UUID | str, customer_id: int | None) -> Cart | None:
    """
    The cart with ``token`` if ``customer_id`` may see it, else None (one query).

    Anyone holding the token may see an anonymous cart; a customer's cart is visible to that
    customer only, token or not (the HTTP contract: 404 for everyone else, never revealing that it exists).
    """
    token = parse_token(token)
    if token is None:
        return None
    return _cart_from(fetch(*_visible_cart_statement([token_parameter(token), customer_id])))


def cart_with_lines_for(
    *, token: uuid.UUID | str, customer_id: int | None
) -> tuple[Cart | None, list[CartLine]]:
    """
    ``cart_for`` and the cart's lines (``cart_lines``), read in one round trip on PostgreSQL: the
    lines' statement finds the cart by the same rule. ``(None, [])`` where ``cart_for`` gives None.
    """
    token = parse_token(token)
    if token is None:
        return None, []
    parameters = [token_parameter(token), customer_id]
    found, lines = run_together([_visible_cart_statement(parameters), visible_lines_statement(parameters)])
    cart = _cart_from(found.rows)
    return (cart, lines_from(lines.rows)) if cart is not None else (None, [])


def _visible_cart_statement(parameters: list) -> Statement:
    """The read of the cart that ``VISIBLE_CART_SQL`` finds with ``parameters`` (every cart request)."""
    return Statement(f"SELECT {_CART_COLUMNS} FROM {_CART_TABLE} WHERE {VISIBLE_CART_SQL}", parameters)  # noqa: S608


def _cart_from(rows: list[tuple]) -> Cart | None:
    """The cart of a row of ``_CART_COLUMNS`` (SQLite gives the token as hex, the times as text)."""
    if not rows:
        return None
    cart_id, token, owner_id, created_at, updated_at = rows[0]
    return Cart.from_db(
        DEFAULT_DB_ALIAS,
        _CART_FIELDS,
        (cart_id, as_uuid(token), owner_id, as_datetime(created_at), as_datetime(updated_at)),
    )


#: ``cart_for``'s rule in SQL, for the add's locking ``UPDATE`` (``services.cart_line_add``):
#: parameters the token (``token_parameter``) and the customer's id or None.
#: tests/cart/test_cart_api.py checks that both find the same carts.
VISIBLE_CART_SQL = "token = %s AND (customer_id IS NULL OR customer_id = %s)"


# The columns the reads above build carts and lines from, in the models' field order.
_CART_FIELDS = ("id", "token", "customer_id", "created_at", "updated_at")
_CART_COLUMNS = ", ".join(_CART_FIELDS)
_LINE_FIELDS = ("id", "cart_id", "sku", "quantity", "created_at")
_LINE_COLUMNS = ", ".join(_LINE_FIELDS)
_CART_TABLE = Cart._meta.db_table
_LINE_TABLE = CartLine._meta.db_table


def token_parameter(token: uuid.UUID):
    """A token as the database takes it in a parameter (a UUID, or its hex on SQLite)."""
    return Cart._meta.get_field("token").get_db_prep_value(token, connection)


def customer_cart(customer_id: int) -> Cart | None:
    """The cart of ``customer_id``, or None (one query)."""
    return Cart.objects.filter(customer_id=customer_id).first()


def cart_lines(cart_id: int) -> list[CartLine]:
    """
    The lines of a cart in the order they were added (one query). In SQL: every cart request
    reads them, and building this one with the ORM cost more than running it.
    """
    sql = f"SELECT {_LINE_COLUMNS} FROM {_LINE_TABLE} WHERE cart_id = %s ORDER BY id"  # noqa: S608 - the model's table
    return lines_from(fetch(sql, [cart_id]))


def visible_lines_statement(parameters: list) -> Statement:
    """
    The read of ``cart_lines`` of the cart that ``VISIBLE_CART_SQL`` finds with ``parameters``,
    for a caller that sends it with the statement that finds (or locks) the cart: their answers
    come in one round trip. Its rows go to ``lines_from``.
    """
    return Statement(
        f"SELECT {_LINE_COLUMNS} FROM {_LINE_TABLE} "  # noqa: S608 - the models' tables
        f"WHERE cart_id = (SELECT id FROM {_CART_TABLE} WHERE {VISIBLE_CART_SQL}) ORDER BY id",
        parameters,
    )


def lines_from(rows: list[tuple]) -> list[CartLine]:
    """Cart lines from rows of ``_LINE_COLUMNS`` (SQLite gives the time as text)."""
    return [
        CartLine.from_db(
            DEFAULT_DB_ALIAS, _LINE_FIELDS, (line_id, cart_id, sku, quantity, as_datetime(created_at))
        )
        for line_id, cart_id, sku, quantity, created_at in rows
    ]


@dataclass(frozen=True)
class PricedCart:
    """A cart's lines (in the order they were added) and their quote, line for line."""

    cart: Cart
    lines: list[CartLine]
    quote: Quote


def quote_lines(lines: list[CartLine]) -> Quote:
    """The lines priced by the catalog's one pricing rule (``catalog.api.quote``): one query."""
    return catalog_api.quote(
        lines=[(line.sku, line.quantity) for line in lines], currency=settings.SHOP_CURRENCY
    )


def priced_cart(cart: Cart, *, lines: list[CartLine] | None = None) -> PricedCart:
    """
    The cart's lines (read, unless the caller has them: a new cart has none) and their quote:
    two queries at most, whatever the number of lines.
    """
    if lines is None:
        lines = cart_lines(cart.pk)
    return PricedCart(cart=cart, lines=lines, quote=quote_lines(lines))


def detail_of(priced: PricedCart) -> dict[str, Any]:
    """
    The cart as the API shows it, priced by the catalog's one pricing rule, as checkout is. A
    change of the cart's lines builds it from what it read and wrote, without reading again.

    A line whose SKU the catalog no longer sells (unknown, inactive or without a price) stays in
    the cart, marked ``sellable: false`` with null prices, and is left out of the subtotal; the
    customer decides whether to remove it, and checkout refuses it.
    """
    return {
        "token": priced.cart.token,
        "lines": [
            {
                "id": line.pk,
                "sku": quoted.sku,
                "name": quoted.name,
                "product_slug": quoted.product_slug,
                "quantity": quoted.quantity,
                "unit_price": quoted.unit_price,
                "line_total": quoted.line_total,
                "sellable": quoted.sellable,
            }
            for line, quoted in zip(priced.lines, priced.quote.lines, strict=True)
        ],
        "subtotal": priced.quote.subtotal,
        "item_count": sum(line.quantity for line in priced.lines),
    }
