"""
The cart's steps of the checkout funnel (``shop_checkout_funnel_total``, defined by the kernel:
cart and checkout both count into it). ``outcome`` is ``ok`` or the refusal's problem code.
"""

from cart import errors
from catalog import api as catalog_api
from inventory import api as inventory_api
from shop.kernel.metrics import FunnelStep

cart_created = FunnelStep("cart_created")
line_added = FunnelStep(
    "line_added",
    {
        inventory_api.InsufficientStock: "insufficient_stock",
        catalog_api.UnknownSku: "unknown_sku",
        catalog_api.NotForSale: "unknown_sku",
        errors.TooManyLines: "too_many_lines",
        errors.QuantityTooLarge: "invalid",
        errors.CartNotFound: None,  # no cart: nothing was tried
    },
)
