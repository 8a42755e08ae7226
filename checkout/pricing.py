"""
What a checkout costs: the one place checkout computes money.

The lines and their subtotal are the catalog's pricing rule (``catalog.api.quote``, the same
one the cart is shown with); this module adds the shipping rate and makes the total. Discounts
and taxes plug in here, between the quote and the total, so that the checkout's answer, the
amount charged and the order's stored amounts keep coming from one ``Pricing``. Amounts are
``Money``, which rounds to the currency's minor units (``shop.kernel.money``).
"""

from dataclasses import dataclass

from django.conf import settings

from catalog import api as catalog_api
from catalog.data import QuotedLine
from checkout.models import Checkout, ShippingMethod, ShippingRate
from shop.kernel.money import Money


@dataclass(frozen=True)
class Pricing:
    """A checkout priced: its sellable lines, the SKUs not sold any more, shipping and total."""

    lines: tuple[QuotedLine, ...]  # the sellable lines, in the checkout's order
    unsellable: tuple[str, ...]  # SKUs the catalog no longer sells: checkout refuses them
    subtotal: Money
    shipping_cost: Money | None  # None: no shipping method chosen, or not offered for the address
    total: Money


def shipping_rates(country: str | None) -> list[tuple[ShippingMethod, Money]]:
    """Active methods with their price for ``country`` (the ``*`` rate where none is specific)."""
    currency = settings.SHOP_CURRENCY
    countries = ["*", country] if country else ["*"]
    rates = (
        ShippingRate.objects.filter(method__is_active=True, currency=currency, country__in=countries)
        .select_related("method")
        .order_by("method__position", "method__code")
    )
    chosen: dict[str, tuple[ShippingMethod, Money, bool]] = {}
    for rate in rates:
        specific = rate.country != "*"
        current = chosen.get(rate.method.code)
        if current is None or (specific and not current[2]):
            chosen[rate.method.code] = (rate.method, Money(rate.amount, currency), specific)
    return [(method, price) for method, price, _ in chosen.values()]


def shipping_price(checkout: Checkout) -> Money | None:
    """The price of the checkout's shipping method for its address, or None (none, or not offered)."""
    if not checkout.shipping_method:
        return None
    country = (checkout.shipping_address or {}).get("country")
    for method, price in shipping_rates(country):
        if method.code == checkout.shipping_method:
            return price
    return None


def price_checkout(checkout: Checkout) -> Pricing:
    """Price the checkout's lines at the catalog's current prices (one catalog query), add shipping."""
    quote = catalog_api.quote(
        lines=[(line["sku"], line["quantity"]) for line in checkout.lines], currency=settings.SHOP_CURRENCY
    )
    shipping = shipping_price(checkout)
    return Pricing(
        lines=tuple(line for line in quote.lines if line.sellable),
        unsellable=quote.unsellable,
        subtotal=quote.subtotal,
        shipping_cost=shipping,
        total=quote.subtotal + shipping if shipping else quote.subtotal,
    )
