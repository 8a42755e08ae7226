"""
Checkout's writes: checkouts (with their stock reservation), completion into an order, and the
order's status machine.

Completion runs in three steps so that no lock is held while the payment provider is called:
(A) lock the checkout, check it, make sure its stock is still reserved, mark it ``completing``;
(B) charge, outside any transaction; (C) in one transaction create the order, allocate the stock
through inventory's api, publish ``OrderPlaced`` and take what was ordered out of the cart.
"""

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cart import api as cart_api
from cart.data import CartData, CartLineData
from checkout import metrics, selectors
from checkout import pricing as checkout_pricing
from checkout.errors import (
    CheckoutIncomplete,
    CheckoutNotFound,
    CheckoutNotOpen,
    CompletionInProgress,
    EmptyCart,
    FulfilmentStarted,
    IllegalTransition,
    NotCancelable,
    OrderCanceled,
    PaymentDeclined,
    PaymentTimeout,
    UnknownShippingMethod,
)
from checkout.events import OrderPlaced, OrderStatusChanged
from checkout.models import Checkout, Order, OrderLine
from checkout.payments import get_gateway
from inventory import api as inventory_api
from inventory.data import Shortage, StockLine
from shop.accounts import api as accounts_api
from shop.kernel import logcontext
from shop.kernel.db import (
    Statement,
    as_datetime_parameter,
    as_uuid_parameter,
    fetch,
    insert_statements,
    insert_unless_conflict,
    run,
)
from shop.kernel.events import publish, publish_many
from shop.kernel.money import Money

logger = logging.getLogger(__name__)

# Stock is re-reserved before payment when less than this is left of the reservation.
RESERVATION_MARGIN = timedelta(seconds=60)

TRANSITIONS = {
    Order.Status.PLACED: {Order.Status.PAID, Order.Status.CANCELED},
    Order.Status.PAID: {Order.Status.HANDED_OVER, Order.Status.CANCELED},
    Order.Status.HANDED_OVER: {Order.Status.SHIPPED},
    Order.Status.SHIPPED: {Order.Status.COMPLETED},
    Order.Status.COMPLETED: set(),
    Order.Status.CANCELED: set(),
}


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    access_token: str
    lines: list[OrderLine]  # as written, so that the answer need not read them again


@dataclass(frozen=True)
class PricedCheckout:
    """A checkout as its write left it, priced in that transaction: what the answer shows."""

    checkout: Checkout
    pricing: checkout_pricing.Pricing


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- checkouts ----------------------------------------------------------------------------


def _stock_lines(lines: list[dict]) -> list[StockLine]:
    return [StockLine(sku=line["sku"], quantity=line["quantity"]) for line in lines]


def _not_sold(skus) -> list[Shortage]:
    """Lines the catalog stopped selling count as out of stock: none of them can be had."""
    return [Shortage(sku=sku, requested=0, available=0) for sku in skus]


@metrics.checkout_started
@transaction.atomic
def checkout_create(*, cart: CartData, customer_id: int | None) -> PricedCheckout:
    """
    Start a checkout of ``cart`` and reserve its stock for ``CHECKOUT_RESERVATION_TTL`` seconds.
    An earlier open checkout of the same cart is abandoned and its reservation released.

    Raises:
        EmptyCart: the cart has no lines.
        inventory_api.InsufficientStock: some SKUs cannot be reserved (or are no longer sold);
            nothing is reserved.
    """
    if not cart.lines:
        raise EmptyCart
    lines = [{"sku": line.sku, "quantity": line.quantity} for line in cart.lines]
    for earlier in selectors.open_checkouts_of(cart.token):
        inventory_api.release(reference=str(earlier.id))
        earlier.status = Checkout.Status.ABANDONED
        earlier.save(update_fields=["status", "updated_at"])
    customer = accounts_api.get_customer(customer_id=customer_id) if customer_id else None
    checkout = Checkout(
        id=uuid.uuid4(),
        cart_token=cart.token,
        customer_id=customer_id,
        lines=lines,
        email=customer.email if customer else "",
    )
    pricing = checkout_pricing.price_checkout(checkout)
    if pricing.unsellable:
        raise inventory_api.InsufficientStock(_not_sold(pricing.unsellable))
    reservation = inventory_api.reserve(
        reference=str(checkout.id),
        lines=_stock_lines(lines),
        ttl_seconds=settings.CHECKOUT_RESERVATION_TTL,
    )
    checkout.expires_at = reservation.expires_at
    checkout.full_clean(validate_unique=False, validate_constraints=False)  # a new id: nothing to look up
    # As save(force_insert=True) writes it, in one statement written in SQL (every checkout runs it).
    if not insert_unless_conflict(checkout):
        raise IntegrityError(f"Checkout id {checkout.id} is taken.")  # a random UUID: never, in practice
    return PricedCheckout(checkout, pricing)


@transaction.atomic
def checkout_update(
    *,
    checkout_id: uuid.UUID,
    customer_id: int | None,
    email: str | None = None,
    shipping_address: dict | None = None,
    shipping_method: str | None = None,
) -> PricedCheckout:
    """
    Set the e-mail, the shipping address and/or the shipping method (already validated in form)
    of the checkout ``checkout_id`` as ``customer_id`` (None: a guest) sees it: found and locked
    in one statement.

    Raises:
        CheckoutNotFound: no such checkout that ``customer_id`` may see.
        CheckoutNotOpen: the checkout is being completed or is completed.
        UnknownShippingMethod: the shipping method is not offered for the address's country.
    """
    checkout = selectors.checkout_for(checkout_id, customer_id, lock=True)
    if checkout is None:
        raise CheckoutNotFound
    if checkout.status != Checkout.Status.OPEN:
        raise CheckoutNotOpen(checkout.status)
    if email is not None:
        checkout.email = email
    if shipping_address is not None:
        checkout.shipping_address = shipping_address
    if shipping_method is not None:
        checkout.shipping_method = shipping_method
    pricing = checkout_pricing.price_checkout(checkout)
    if checkout.shipping_method and pricing.shipping_cost is None:
        metrics.shipping_set.count("invalid_shipping_method")
        raise UnknownShippingMethod(checkout.shipping_method)
    checkout.save()
    metrics.checkout_updated(address=shipping_address is not None, shipping=shipping_method is not None)
    return PricedCheckout(checkout, pricing)


def _missing(checkout: Checkout) -> list[str]:
    return [
        name
        for name, value in (
            ("email", checkout.email),
            ("shipping_address", checkout.shipping_address),
            ("shipping_method", checkout.shipping_method),
        )
        if not value
    ]


def _begin_completion(checkout_id) -> tuple[Checkout, checkout_pricing.Pricing]:
    """Step A: lock, check, secure the stock for the payment's duration, mark completing."""
    with transaction.atomic():
        checkout = selectors.checkout_by_id(checkout_id, lock=True)
        if checkout is None:
            raise Checkout.DoesNotExist(checkout_id)
        stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
        if checkout.status == Checkout.Status.COMPLETING and checkout.status_changed_at < stale:
            checkout.status = Checkout.Status.OPEN  # the completing process died: take over
        if checkout.status == Checkout.Status.COMPLETING:
            raise CompletionInProgress
        if checkout.status != Checkout.Status.OPEN:
            raise CheckoutNotOpen(checkout.status)
        missing = _missing(checkout)
        if missing:
            raise CheckoutIncomplete(missing)
        pricing = checkout_pricing.price_checkout(checkout)
        if pricing.unsellable:
            raise inventory_api.ReservationExpired(_not_sold(pricing.unsellable))
        if pricing.shipping_cost is None:
            raise CheckoutIncomplete(["shipping_method"])
        if checkout.expires_at <= timezone.now() + RESERVATION_MARGIN:
            try:
                reservation = inventory_api.reserve(
                    reference=str(checkout.id),
                    lines=_stock_lines(checkout.lines),
                    ttl_seconds=settings.CHECKOUT_RESERVATION_TTL,
                )
            except inventory_api.InsufficientStock as exc:  # re-reserving failed: the reservation is lost
                raise inventory_api.ReservationExpired(exc.shortages) from exc
            checkout.expires_at = reservation.expires_at
        checkout.status = Checkout.Status.COMPLETING
        checkout.status_changed_at = checkout.updated_at = timezone.now()
        run(
            f"UPDATE {Checkout._meta.db_table} SET status = %s, status_changed_at = %s, expires_at = %s, "  # noqa: S608
            "updated_at = %s WHERE id = %s",
            [
                checkout.status,
                as_datetime_parameter(checkout.status_changed_at),
                as_datetime_parameter(checkout.expires_at),
                as_datetime_parameter(checkout.updated_at),
                as_uuid_parameter(checkout.id),
            ],
        )
    return checkout, pricing


def _reopen(checkout: Checkout) -> None:
    Checkout.objects.filter(pk=checkout.pk, status=Checkout.Status.COMPLETING).update(
        status=Checkout.Status.OPEN, status_changed_at=timezone.now()
    )


def _new_order_number() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
    return f"{timezone.now():%y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(8))


@metrics.order_placed
def checkout_complete(
    *,
    checkout_id: uuid.UUID,
    payment_token: str,
    idempotency_key: str,
    on_placed: Callable[[PlacedOrder], None] | None = None,
) -> PlacedOrder:
    """
    Pay for the checkout and place its order.

    Raises:
        CheckoutNotOpen: completed already (``CompletionInProgress``: another completion runs).
        CheckoutIncomplete: e-mail, address or shipping method missing.
        inventory_api.ReservationExpired: the stock can no longer be had; nothing is charged.
        PaymentDeclined: nothing is charged; the checkout stays usable.
        PaymentTimeout: nothing is charged; the checkout stays usable.

    ``on_placed`` runs inside the order's transaction (the HTTP layer stores the response of the
    Idempotency-Key there), so a crash right after the commit cannot lose the answer.
    """
    checkout, pricing = _begin_completion(checkout_id)
    gateway = get_gateway()
    try:
        charge = gateway.charge(
            amount=pricing.total, token=payment_token, idempotency_key=f"{checkout.id}:{idempotency_key}"
        )
    except (PaymentDeclined, PaymentTimeout) as exc:
        metrics.payment.count_failure(exc)
        _reopen(checkout)
        raise
    metrics.payment.count()
    try:
        return _place_order(checkout, pricing, payment_reference=charge.reference, on_placed=on_placed)
    except inventory_api.ReservationExpired:
        gateway.refund(reference=charge.reference, amount=pricing.total)
        _reopen(checkout)
        raise


@transaction.atomic
def _place_order(
    checkout: Checkout,
    pricing: checkout_pricing.Pricing,
    *,
    payment_reference: str,
    on_placed: Callable[[PlacedOrder], None] | None = None,
) -> PlacedOrder:
    """Step C: the order, its lines, the stock allocation, the events and the emptied cart, at once."""
    access_token = secrets.token_urlsafe(24)
    order = Order(
        checkout_id=checkout.id,
        customer_id=checkout.customer_id,
        access_token_digest=token_digest(access_token),
        email=checkout.email,
        shipping_address=checkout.shipping_address,
        shipping_method=checkout.shipping_method,
        currency=pricing.total.currency,
        subtotal=pricing.subtotal.amount,
        shipping_cost=pricing.shipping_cost.amount,
        total=pricing.total.amount,
        status=Order.Status.PAID,
        payment_reference=payment_reference,
    )
    for attempt in range(3):
        order.number = _new_order_number()
        if insert_unless_conflict(order):  # a taken number or checkout: no row, no savepoint
            break
        if Order.objects.filter(checkout_id=checkout.id).exists() or attempt == 2:
            raise IntegrityError(f"An order of checkout {checkout.id} exists, or no free order number.")
    logcontext.bind(order_number=order.number)  # the request's log records and tasks from here on
    lines = [
        OrderLine(
            order=order,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price.amount,
            line_total=line.line_total.amount,
        )
        for line in pricing.lines
    ]
    now = as_datetime_parameter(timezone.now())
    publish_many(  # sent with the lines (one INSERT) and the checkout's UPDATE: one round trip
        [
            OrderPlaced(
                number=order.number,
                customer_id=order.customer_id,
                email=order.email,
                currency=order.currency,
                subtotal=order.subtotal,
                shipping_cost=order.shipping_cost,
                total=order.total,
                shipping_method=order.shipping_method,
                shipping_address=order.shipping_address,
                lines=[
                    {
                        "sku": line.sku,
                        "name": line.name,
                        "quantity": line.quantity,
                        "unit_price": str(line.unit_price.amount),
                        "line_total": str(line.line_total.amount),
                    }
                    for line in pricing.lines
                ],
            ),
            OrderStatusChanged(
                number=order.number, previous_status=Order.Status.PLACED, status=Order.Status.PAID
            ),
        ],
        after=[
            *insert_statements(
                OrderLine._meta.db_table,
                ("order_id", "sku", "name", "quantity", "unit_price", "line_total"),
                [
                    (order.pk, line.sku, line.name, line.quantity, line.unit_price, line.line_total)
                    for line in lines
                ],
            ),
            Statement(
                f"UPDATE {Checkout._meta.db_table} SET status = %s, order_number = %s, "  # noqa: S608
                "status_changed_at = %s, updated_at = %s WHERE id = %s",
                [Checkout.Status.COMPLETED, order.number, now, now, as_uuid_parameter(checkout.id)],
            ),
        ],
    )
    # The stock: an allocation that cannot be had rolls all of the above back.
    inventory_api.commit(reference=str(checkout.id), order_number=order.number)
    # What the order bought leaves the cart; lines added since the checkout's snapshot stay.
    cart_api.remove_ordered(
        token=checkout.cart_token,
        lines=[CartLineData(sku=line["sku"], quantity=line["quantity"]) for line in checkout.lines],
    )
    metrics.order_placed_for_campaign()
    placed = PlacedOrder(order=order, access_token=access_token, lines=lines)
    logger.info("Order %s placed: %s %s, %s line(s).", order.number, order.total, order.currency, len(lines))
    if on_placed is not None:
        on_placed(placed)
    return placed


# --- orders -------------------------------------------------------------------------------


def _locked(order: Order) -> Order:
    """The order read again under a row lock (``Order.DoesNotExist`` if it went)."""
    locked = selectors.order_by_number(order.number, lock=True)
    if locked is None:
        raise Order.DoesNotExist(order.number)
    return locked


@transaction.atomic
def order_transition(*, order: Order, status: str, erp_reference: str | None = None) -> Order:
    """
    Move ``order`` to ``status`` along the status machine; publishes ``OrderStatusChanged``.

    Raises:
        IllegalTransition: the machine has no such step from the current status.
    """
    order = _locked(order)
    if status == order.status:
        return order
    if status not in TRANSITIONS[order.status]:
        raise IllegalTransition(order.status, status)
    previous = order.status
    order.status = status
    if erp_reference is not None:
        order.erp_reference = erp_reference
    order.save(update_fields=["status", "erp_reference", "updated_at"])
    publish(OrderStatusChanged(number=order.number, previous_status=previous, status=status))
    return order


def order_is_cancelable(order: Order) -> bool:
    """A placed or paid order can be canceled until fulfilment takes it (its hand-over begins)."""
    return Order.Status.CANCELED in TRANSITIONS[order.status] and order.handover_started_at is None


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    """
    Cancel a placed or paid order: its stock goes back through inventory; the refund of a payment
    follows from the published ``OrderStatusChanged`` (``checkout.handlers``), off the request.

    A cancel and the start of the order's hand-over (``order_handover_begin``) both lock the order
    row, so exactly one of them wins: either the order is canceled and never sent to the ERP, or
    the ERP may have it and the cancel is refused.

    Raises:
        NotCancelable: the order was handed over to fulfilment, or is shipped or done
            (``FulfilmentStarted``: its hand-over has begun). Canceling a canceled order is fine.
    """
    order = _locked(order)
    if order.status != Order.Status.CANCELED:
        if order.handover_started_at is not None:
            raise FulfilmentStarted(order.status)
        if Order.Status.CANCELED not in TRANSITIONS[order.status]:
            raise NotCancelable(order.status)
    order = order_transition(order=order, status=Order.Status.CANCELED)
    inventory_api.return_order(order_number=order.number)
    return order


@transaction.atomic
def order_handover_begin(*, order: Order) -> Order:
    """
    Fulfilment takes the paid ``order`` before it is sent to the ERP: from now on the ERP may
    have it, so a cancel is refused (``FulfilmentStarted``). Idempotent; an order already handed
    over (or further along) is returned as it is.

    Raises:
        OrderCanceled: the order is canceled: it must not be handed over.
        IllegalTransition: the order is not paid.
    """
    order = _locked(order)
    if order.status in (Order.Status.HANDED_OVER, Order.Status.SHIPPED, Order.Status.COMPLETED):
        return order
    if order.status == Order.Status.CANCELED:
        raise OrderCanceled(Order.Status.HANDED_OVER)
    if order.status != Order.Status.PAID:
        raise IllegalTransition(order.status, Order.Status.HANDED_OVER)
    if order.handover_started_at is None:
        order.handover_started_at = timezone.now()
        order.save(update_fields=["handover_started_at", "updated_at"])
    return order


_ORDERS = Order._meta.db_table

# Every order's hand-over runs the two steps below; each is one conditional UPDATE in SQL on the
# usual path (a paid order, taken once; then handed over once), where the rules above took a read,
# a locked read and the ORM's save. The UPDATE takes the row lock as the locked read does, so a
# cancel and a hand-over still exclude each other: after a concurrent cancel commits, PostgreSQL
# evaluates the condition again (status = paid) and the UPDATE changes nothing. Any other case
# (the order canceled, taken or handed over already, unknown) goes through the rules above.


def order_handover_take(*, number: str) -> tuple[str, str]:
    """
    ``order_handover_begin`` of the order ``number``: its (status, ERP reference) once taken.

    Raises:
        Order.DoesNotExist: no order has ``number``.
        OrderCanceled, IllegalTransition: as ``order_handover_begin``.
    """
    now = as_datetime_parameter(timezone.now())
    taken = fetch(
        f"UPDATE {_ORDERS} SET handover_started_at = %s, updated_at = %s "  # noqa: S608 - the model's table
        "WHERE number = %s AND status = %s AND handover_started_at IS NULL RETURNING erp_reference",
        [now, now, number, Order.Status.PAID],
    )
    if taken:
        return Order.Status.PAID, taken[0][0]
    order = selectors.order_by_number(number)
    if order is None:
        raise Order.DoesNotExist(number)
    order = order_handover_begin(order=order)
    return order.status, order.erp_reference


def order_mark_handed_over(*, number: str, erp_reference: str) -> tuple[str, str]:
    """
    ``order_transition`` of the order ``number`` to ``handed_over`` with ``erp_reference``, and its
    ``OrderStatusChanged``: its (status, ERP reference) then.

    Raises:
        Order.DoesNotExist: no order has ``number``.
        IllegalTransition: as ``order_transition`` (the order is canceled, say).
    """
    with transaction.atomic(savepoint=False):  # the change and its event, or neither
        now = as_datetime_parameter(timezone.now())
        changed = run(
            f"UPDATE {_ORDERS} SET status = %s, erp_reference = %s, updated_at = %s "  # noqa: S608
            "WHERE number = %s AND status = %s",
            [Order.Status.HANDED_OVER, erp_reference, now, number, Order.Status.PAID],
        )
        if changed:
            publish(
                OrderStatusChanged(
                    number=number, previous_status=Order.Status.PAID, status=Order.Status.HANDED_OVER
                )
            )
            return Order.Status.HANDED_OVER, erp_reference
    order = selectors.order_by_number(number)
    if order is None:
        raise Order.DoesNotExist(number)
    order = order_transition(order=order, status=Order.Status.HANDED_OVER, erp_reference=erp_reference)
    return order.status, order.erp_reference


@transaction.atomic
def order_handover_abandon(*, order: Order) -> Order:
    """The ERP refused the paid ``order`` (it does not have it): it can be canceled again."""
    order = _locked(order)
    if order.status == Order.Status.PAID and order.handover_started_at is not None:
        order.handover_started_at = None
        order.save(update_fields=["handover_started_at", "updated_at"])
    return order


def order_refund(*, number: str) -> None:
    """Refund a canceled order's payment (run by a worker, from ``OrderStatusChanged``)."""
    order = Order.objects.filter(number=number, status=Order.Status.CANCELED).first()
    if order is not None and order.payment_reference:
        get_gateway().refund(reference=order.payment_reference, amount=Money(order.total, order.currency))


# --- retention ------------------------------------------------------------------------------


def checkouts_purge(*, older_than: timedelta, batch_size: int = 500, limit: int = 100_000) -> int:
    """
    Delete checkouts last changed more than ``older_than`` ago that are over: completed (the
    order keeps its own copy of lines, address and e-mail), abandoned, or open with their
    reservation long expired. They hold a shopper's e-mail and address, which the shop has no
    reason to keep. A checkout left ``completing`` (the process died during the payment) is kept
    for staff to look into. Batches of ``batch_size``, each its own short transaction, rows in
    use skipped (``SKIP LOCKED``); at most ``limit`` per call. Returns how many went.
    """
    now = timezone.now()
    cutoff = now - older_than
    over = Q(status__in=[Checkout.Status.COMPLETED, Checkout.Status.ABANDONED]) | Q(
        status=Checkout.Status.OPEN, expires_at__lt=cutoff
    )
    deleted = 0
    while deleted < limit:
        with transaction.atomic():
            ids = list(
                Checkout.objects.select_for_update(skip_locked=True)
                .filter(over, updated_at__lt=cutoff)
                .order_by("updated_at")
                .values_list("pk", flat=True)[: min(batch_size, limit - deleted)]
            )
            if not ids:
                break
            Checkout.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
