"""Checkout's subscribers: work that follows from an event, off the request path."""

from checkout import services
from checkout.events import OrderStatusChanged
from shop.kernel.subscribers import event_handler


@event_handler(
    OrderStatusChanged,
    name="checkout.refund_canceled_order",
    when=lambda payload: payload["status"] == "canceled",  # no task for the other changes
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def refund_canceled_order(event: OrderStatusChanged) -> None:
    """A canceled order's payment is refunded (the inbox makes a redelivery a no-op)."""
    services.order_refund(number=event.number)
