"""
Checkout's public functions: what integrations need of orders.

Orders are known by their number across the shop.
"""

from checkout import selectors, services
from checkout.data import OrderSummary
from checkout.models import Order


class UnknownOrder(LookupError):
    """No order has this number."""


class IllegalTransition(Exception):
    """The order's status machine has no such step."""


def get_order(*, number: str) -> OrderSummary:
    """
    Raises:
        UnknownOrder: no order has ``number``.
    """
    order = selectors.order_by_number(number)
    if order is None:
        raise UnknownOrder(number)
    return OrderSummary(number=order.number, status=order.status, erp_reference=order.erp_reference)


def mark_handed_over(*, number: str, erp_reference: str) -> OrderSummary:
    """
    Record that the ERP accepted the order (``paid`` → ``handed_over``); idempotent.

    Raises:
        UnknownOrder: no order has ``number``.
        IllegalTransition: the order is canceled (or not paid).
    """
    order = selectors.order_by_number(number)
    if order is None:
        raise UnknownOrder(number)
    try:
        order = services.order_transition(
            order=order, status=Order.Status.HANDED_OVER, erp_reference=erp_reference
        )
    except services.IllegalTransition as exc:
        raise IllegalTransition(str(exc)) from exc
    return OrderSummary(number=order.number, status=order.status, erp_reference=order.erp_reference)
