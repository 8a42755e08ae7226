"""
Inventory's step of the checkout funnel (``shop_checkout_funnel_total``, defined by the kernel):
``reservation`` with outcome ``expired`` counts the reservations whose time ran out before their
checkout was completed (abandoned checkouts), when their stock is taken back and they are deleted:
by the sweep (beat, every minute) or by the next operation on the same stock rows.
"""

from shop.kernel.metrics import FunnelStep

reservation = FunnelStep("reservation")


def reservations_expired(count: int) -> None:
    """``count`` expired reservations are deleted in the current transaction: count them on commit."""
    reservation.count_on_commit("expired", count)
