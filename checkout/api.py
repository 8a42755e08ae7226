"""
Checkout's public functions: what integrations need of orders, and what the operations page
(``shop/operations.py``) shows of the last hour's purchases.

Orders are known by their number across the shop.
"""

from datetime import datetime

from django.utils import timezone

from checkout import selectors, services
from checkout.data import CheckoutActivity, OrderSummary
from checkout.errors import IllegalTransition as IllegalTransition  # the errors other contexts meet
from checkout.errors import OrderCanceled as OrderCanceled
from checkout.errors import UnknownOrder
from checkout.models import Order


def get_order(*, number: str) -> OrderSummary:
    """
    Raises:
        UnknownOrder: no order has ``number``.
    """
    return _summary(_order(number))


def _summary(order: Order) -> OrderSummary:
    return OrderSummary(number=order.number, status=order.status, erp_reference=order.erp_reference)


def _order(number: str) -> Order:
    order = selectors.order_by_number(number)
    if order is None:
        raise UnknownOrder(number)
    return order


def begin_handover(*, number: str) -> OrderSummary:
    """
    Take the order for fulfilment, just before it is sent to the ERP: from then on the customer
    can no longer cancel it (409 ``not_cancelable``), since the ERP may have it. Idempotent.

    Raises:
        UnknownOrder: no order has ``number``.
        OrderCanceled: the order was canceled first; it must not be sent.
        IllegalTransition: the order is not paid.
    """
    try:
        status, erp_reference = services.order_handover_take(number=number)
    except Order.DoesNotExist:
        raise UnknownOrder(number) from None
    return OrderSummary(number=number, status=status, erp_reference=erp_reference)


def abandon_handover(*, number: str) -> OrderSummary:
    """
    The ERP refused the order for good (it does not have it): the customer may cancel it again.

    Raises:
        UnknownOrder: no order has ``number``.
    """
    return _summary(services.order_handover_abandon(order=_order(number)))


def mark_handed_over(*, number: str, erp_reference: str) -> OrderSummary:
    """
    Record that the ERP accepted the order (``paid`` → ``handed_over``); idempotent.

    Raises:
        UnknownOrder: no order has ``number``.
        IllegalTransition: the order is canceled (or not paid).
    """
    try:
        status, reference = services.order_mark_handed_over(number=number, erp_reference=erp_reference)
    except Order.DoesNotExist:
        raise UnknownOrder(number) from None
    return OrderSummary(number=number, status=status, erp_reference=reference)


CHECKOUT_OUTCOMES = ("completed", "completing", "open", "expired", "abandoned")


def activity_since(*, since: datetime) -> CheckoutActivity:
    """
    Orders placed and checkouts started since ``since``, by status and outcome now (two
    aggregate reads; see ``CheckoutActivity``). Every order status and checkout outcome is
    present, 0 when none.
    """
    orders = selectors.orders_by_status_since(since)
    checkouts = selectors.checkouts_by_outcome_since(since, timezone.now())
    orders_by_status = {status: orders.get(status, 0) for status in Order.Status.values}
    checkouts_by_outcome = {outcome: checkouts.get(outcome, 0) for outcome in CHECKOUT_OUTCOMES}
    return CheckoutActivity(
        since=since,
        orders_placed=sum(orders_by_status.values()),
        orders_by_status=orders_by_status,
        checkouts_started=sum(checkouts_by_outcome.values()),
        checkouts_by_outcome=checkouts_by_outcome,
    )
