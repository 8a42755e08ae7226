"""
Checkout's metrics: its steps of the checkout funnel (``shop_checkout_funnel_total``, defined by
the kernel: cart and checkout both count into it) and the orders placed by campaign.

A completion counts once in exactly one place of the funnel: ``payment`` with ``declined`` or
``timeout`` when the provider refused, else ``order_placed`` with ``ok`` or why it was not placed
(``reservation_expired``, ``checkout_incomplete``, ...; before or after the payment, which is
refunded then). ``payment`` ``ok`` counts the charges that went through.
"""

from django.db import transaction
from prometheus_client import Counter

from checkout import errors
from inventory import api as inventory_api
from shop.kernel.metrics import FunnelStep, current_campaign

ORDERS_BY_CAMPAIGN = Counter(
    "shop_orders_placed_by_campaign_total",
    "Orders placed, by the campaign of the request that placed them (METRICS_CAMPAIGNS, other, none).",
    ["campaign"],
)

checkout_started = FunnelStep(
    "checkout_started",
    {inventory_api.InsufficientStock: "insufficient_stock", errors.EmptyCart: "empty_cart"},
)
address_set = FunnelStep("address_set")
shipping_set = FunnelStep("shipping_set", {errors.UnknownShippingMethod: "invalid_shipping_method"})
payment = FunnelStep("payment", {errors.PaymentDeclined: "declined", errors.PaymentTimeout: "timeout"})
order_placed = FunnelStep(
    "order_placed",
    {
        inventory_api.ReservationExpired: "reservation_expired",
        errors.CheckoutIncomplete: "checkout_incomplete",
        errors.CompletionInProgress: None,  # another request completes it: that one counts
        errors.CheckoutNotOpen: "checkout_not_open",
        errors.PaymentDeclined: None,  # the payment step's
        errors.PaymentTimeout: None,
    },
)


def checkout_updated(*, address: bool, shipping: bool) -> None:
    """A checkout's PATCH went through: count the steps it made, once it commits."""
    if address:
        address_set.count_on_commit()
    if shipping:
        shipping_set.count_on_commit()


def order_placed_for_campaign() -> None:
    """Inside the order's transaction: count it for the request's campaign if it commits."""
    campaign = current_campaign()
    transaction.on_commit(lambda: ORDERS_BY_CAMPAIGN.labels(campaign).inc())
