"""
The cart's writes.

Every change of a cart's lines first locks the cart row (``SELECT … FOR UPDATE``, or the
``UPDATE`` that touches it), so that concurrent requests on one cart run one after the other and
none loses another's update; the row lock is held only for the few statements of the change.
Prices are never written: a cart holds SKUs and quantities, and is priced when it is read. The
availability check here is a courtesy to the customer; stock is reserved only by checkout.

Validation: ``full_clean()`` checks the fields before each save; the unique and check
constraints are left to the database, which enforces them anyway (checking them in Python
would cost a query each and could still race).
"""

import uuid
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from cart import metrics, selectors
from cart.errors import CartNotFound, LineNotFound, QuantityTooLarge, TooManyLines
from cart.models import MAX_QUANTITY, Cart, CartLine
from catalog import api as catalog_api
from inventory import api as inventory_api
from inventory.data import Shortage
from shop.kernel.db import (
    Statement,
    as_datetime_parameter,
    as_uuid_parameter,
    fetch,
    joined_transaction,
    placeholders,
    run,
    run_together,
    update_rows,
)


def _validate(instance: Model, *, exclude: tuple[str, ...] = ()) -> None:
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


# --- carts --------------------------------------------------------------------------------


@transaction.atomic
def cart_create(*, customer_id: int | None = None) -> tuple[Cart, bool]:
    """
    Return a new anonymous cart, or the cart of ``customer_id`` (created if it has none), and
    whether it was created. A customer has at most one cart, also under concurrent requests.
    """
    if customer_id is not None:
        return _customer_cart_get_or_create(customer_id)
    cart = Cart()
    _validate(cart)
    cart.save()
    metrics.cart_created.count_on_commit()
    return cart, True


def _customer_cart_get_or_create(customer_id: int) -> tuple[Cart, bool]:
    cart = selectors.customer_cart(customer_id)
    if cart is not None:
        return cart, False
    cart = Cart(customer_id=customer_id)
    _validate(cart)
    try:
        with transaction.atomic():
            cart.save()
    except IntegrityError:  # a concurrent request created the customer's cart first
        return Cart.objects.get(customer_id=customer_id), False
    metrics.cart_created.count_on_commit()
    return cart, True


def _lock(cart_id: int) -> None:
    """Lock the cart row until the end of the transaction; CartNotFound if it is gone."""
    if not list(Cart.objects.select_for_update().filter(pk=cart_id).values_list("pk", flat=True)):
        raise CartNotFound


def _touch(cart_id: int) -> None:
    Cart.objects.filter(pk=cart_id).update(updated_at=timezone.now())


def _lock_visible(token: uuid.UUID | str, customer_id: int | None) -> tuple[Cart, list[CartLine]]:
    """
    The cart ``token`` if ``customer_id`` may see it (``selectors.cart_for``'s rule), touched and
    so locked until the end of the transaction, and its lines: one ``UPDATE … RETURNING`` where a
    lookup and a lock were two, sent with the read of the lines (one round trip on PostgreSQL;
    the UPDATE runs first, so the lines are read under the lock). CartNotFound if there is no
    such cart for this customer.
    """
    parsed = selectors.parse_token(token)
    if parsed is None:
        raise CartNotFound
    parameters = [selectors.token_parameter(parsed), customer_id]
    touched, lines = run_together(
        [
            Statement(
                f"UPDATE {Cart._meta.db_table} SET updated_at = %s WHERE {selectors.VISIBLE_CART_SQL} "  # noqa: S608
                "RETURNING id, customer_id",
                [as_datetime_parameter(timezone.now()), *parameters],
            ),
            selectors.visible_lines_statement(parameters),
        ]
    )
    if not touched.rows:
        raise CartNotFound
    (cart_id, owner_id), *_ = touched.rows
    return Cart(pk=cart_id, token=parsed, customer_id=owner_id), selectors.lines_from(lines.rows)


def _require_sold(quoted) -> None:
    """The quoted line of a SKU being added or grown must be one the catalog sells."""
    if not quoted.sellable:
        if quoted.product_slug is None:
            raise catalog_api.UnknownSku(quoted.sku)
        raise catalog_api.NotForSale(quoted.sku)


# --- lines --------------------------------------------------------------------------------


def _require_available(sku: str, quantity: int) -> None:
    availability = inventory_api.get_availability(skus=[sku]).get(sku)
    available = availability.available if availability is not None else 0
    if quantity > available:
        shortage = Shortage(sku=sku, requested=quantity, available=max(available, 0))
        raise inventory_api.InsufficientStock([shortage])


@metrics.line_added
@transaction.atomic
def cart_line_add(
    *, token: uuid.UUID | str, customer_id: int | None, sku: str, quantity: int
) -> selectors.PricedCart:
    """
    Add ``quantity`` (1..100) of ``sku`` to the cart ``token`` as ``customer_id`` (None: a
    guest) sees it: a new line, or more of the SKU's line. Returns the cart priced as it now is,
    from what the change read (no second read). Five statements in four round trips, whatever
    the size of the cart: find, touch and lock the cart with the read of its lines, one quote of
    the lines as they will be (the SKU's sellability with them), the SKU's availability, the
    line's write.

    Raises:
        catalog_api.UnknownSku, catalog_api.NotForSale: the catalog does not sell ``sku``.
        QuantityTooLarge: the line would hold more than 100.
        TooManyLines: a new line would exceed ``CART_MAX_LINES``.
        inventory_api.InsufficientStock: the line would hold more than the inventory has available.
        CartNotFound: no cart ``token`` that ``customer_id`` may see.
    """
    cart, lines = _lock_visible(token, customer_id)
    line = next((each for each in lines if each.sku == sku), None)
    if line is None:
        line = CartLine(cart=cart, sku=sku, quantity=0)
        lines.append(line)
    total = line.quantity + quantity
    line.quantity = total  # the lines as they will be, to price them at once
    quote = selectors.quote_lines(lines)
    _require_sold(quote.lines[lines.index(line)])
    if line.pk is None and len(lines) > settings.CART_MAX_LINES:
        raise TooManyLines(settings.CART_MAX_LINES)
    if total > MAX_QUANTITY:
        raise QuantityTooLarge(total)
    _require_available(sku, total)
    _validate(line, exclude=("cart",))  # the cart row is locked: it exists
    _write_line(line)
    return selectors.PricedCart(cart=cart, lines=lines, quote=quote)


def _write_line(line: CartLine) -> None:
    """
    Write an added line as ``save()`` would: a new one inserted (its id and ``created_at`` set on
    it), a grown one's quantity updated. In SQL, one statement either way: every add to a cart
    runs it, and the ORM's building of the INSERT cost more than running it. No signals (nothing
    listens to a cart line's); a second line of the SKU meets the unique constraint as before.
    """
    table = CartLine._meta.db_table
    if line.pk is not None:
        run(f"UPDATE {table} SET quantity = %s WHERE id = %s", [line.quantity, line.pk])  # noqa: S608
        return
    line.created_at = timezone.now()
    ((line.pk,),) = fetch(
        f"INSERT INTO {table} (cart_id, sku, quantity, created_at) VALUES (%s, %s, %s, %s) RETURNING id",  # noqa: S608
        [line.cart_id, line.sku, line.quantity, as_datetime_parameter(line.created_at)],
    )
    line._state.adding = False


@transaction.atomic
def cart_line_update(*, cart: Cart, line_id: int, quantity: int) -> CartLine | None:
    """
    Set the quantity (0..100) of the line ``line_id`` of ``cart``; 0 removes the line (and
    returns None). A new quantity is checked like an added one.

    Raises:
        LineNotFound: ``cart`` has no such line.
        catalog_api.UnknownSku, catalog_api.NotForSale: the catalog no longer sells the line's SKU.
        inventory_api.InsufficientStock: the inventory has fewer than ``quantity`` available.
        CartNotFound: the cart went away meanwhile.
    """
    _lock(cart.pk)
    line = CartLine.objects.filter(cart_id=cart.pk, pk=line_id).first()
    if line is None:
        raise LineNotFound
    if quantity == 0:
        line.delete()
        _touch(cart.pk)
        return None
    catalog_api.require_sellable(sku=line.sku)
    _require_available(line.sku, quantity)
    line.quantity = quantity
    _validate(line, exclude=("cart",))
    line.save(update_fields=["quantity"])
    _touch(cart.pk)
    return line


@transaction.atomic
def cart_line_remove(*, cart: Cart, line_id: int) -> None:
    """
    Remove the line ``line_id`` from ``cart``.

    Raises:
        LineNotFound: ``cart`` has no such line.
        CartNotFound: the cart went away meanwhile.
    """
    _lock(cart.pk)
    deleted, _ = CartLine.objects.filter(cart_id=cart.pk, pk=line_id).delete()
    if not deleted:
        raise LineNotFound
    _touch(cart.pk)


@transaction.atomic
def cart_merge(*, cart: Cart, customer_id: int) -> Cart:
    """
    Merge the anonymous ``cart`` into the cart of ``customer_id`` (created if it has none) and
    delete ``cart``; return the customer's cart.

    Quantities of the same SKU are summed and capped at 100. Lines of SKUs new to the
    customer's cart move over, in the order they were added, as long as the cart has fewer than
    ``CART_MAX_LINES`` lines; any beyond are dropped with the anonymous cart. Availability is not
    checked here: merging is not the customer asking for more, and checkout checks again.
    Both carts are locked in the order of their ids, so that concurrent merges cannot deadlock.

    Raises:
        CartNotFound: ``cart`` was merged or taken by a customer meanwhile.
    """
    target, _ = _customer_cart_get_or_create(customer_id)
    if target.pk == cart.pk:
        return target
    locked = {
        locked_cart.pk: locked_cart
        for locked_cart in Cart.objects.select_for_update().filter(pk__in=[cart.pk, target.pk]).order_by("pk")
    }
    source = locked.get(cart.pk)
    if source is None or source.customer_id is not None:
        raise CartNotFound
    target_lines = {line.sku: line for line in selectors.cart_lines(target.pk)}
    summed, moved = [], []
    for line in selectors.cart_lines(source.pk):
        kept = target_lines.get(line.sku)
        if kept is not None:
            kept.quantity = min(kept.quantity + line.quantity, MAX_QUANTITY)
            summed.append(kept)
        elif len(target_lines) < settings.CART_MAX_LINES:
            target_lines[line.sku] = line
            moved.append(line.pk)
    if summed:
        CartLine.objects.bulk_update(summed, ["quantity"])
    if moved:
        CartLine.objects.filter(pk__in=moved).update(cart_id=target.pk)
    source.delete()
    _touch(target.pk)
    return target


@joined_transaction()  # in checkout's transaction, without a savepoint: it raises before it writes
def cart_remove_ordered(*, token: uuid.UUID, ordered: Mapping[str, int]) -> None:
    """
    Take ``ordered`` (quantity by SKU) out of the cart ``token``: a line goes down by its SKU's
    ordered quantity and goes when nothing is left; nothing happens for an unknown token.
    Written in SQL (every completion runs it): one UPDATE touches and locks the cart and is sent
    with the read of its ordered lines (one round trip on PostgreSQL), then one DELETE and, where
    a line keeps some, one UPDATE.
    """
    cart, line = Cart._meta.db_table, CartLine._meta.db_table
    skus = list(ordered)
    touched, lines = run_together(  # the models' tables; every value is a parameter
        [
            Statement(
                f"UPDATE {cart} SET updated_at = %s WHERE token = %s RETURNING id",  # noqa: S608
                [as_datetime_parameter(timezone.now()), as_uuid_parameter(token)],
            ),
            Statement(
                f"SELECT id, sku, quantity FROM {line} WHERE cart_id = "  # noqa: S608
                f"(SELECT id FROM {cart} WHERE token = %s) AND sku IN ({placeholders(len(skus))})",
                [as_uuid_parameter(token), *skus],
            ),
        ]
    )
    if not touched.rows:
        return
    gone, kept = [], []
    for line_id, sku, quantity in lines.rows:
        left = quantity - ordered[sku]
        if left > 0:
            kept.append((line_id, left))
        else:
            gone.append(line_id)
    if gone:
        run(f"DELETE FROM {line} WHERE id IN ({placeholders(len(gone))})", gone)  # noqa: S608
    if kept:
        update_rows(line, ("quantity",), kept)


# --- retention ------------------------------------------------------------------------------


def carts_purge_stale(*, older_than: timedelta, batch_size: int = 500, limit: int = 100_000) -> int:
    """
    Delete anonymous carts (and their lines) nobody has touched for ``older_than``, in batches of
    ``batch_size``, each its own short transaction; at most ``limit`` per call. Returns how many
    went. A customer's cart is kept: it is their cart whenever they come back. A cart in use
    right now is locked by its request and skipped (``SKIP LOCKED``); one touched after the
    cut-off is not stale any more and stays.
    """
    cutoff = timezone.now() - older_than
    deleted = 0
    while deleted < limit:
        with transaction.atomic():
            ids = list(
                Cart.objects.select_for_update(skip_locked=True)
                .filter(customer_id__isnull=True, updated_at__lt=cutoff)
                .order_by("updated_at")
                .values_list("pk", flat=True)[: min(batch_size, limit - deleted)]
            )
            if not ids:
                break
            Cart.objects.filter(pk__in=ids).delete()  # and their lines (CASCADE, one statement)
        deleted += len(ids)
    return deleted
