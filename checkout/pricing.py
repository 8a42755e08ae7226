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
from shop.kernel.db import as_decimal, fetch, placeholders
from shop.kernel.money import Money


@dataclass(frozen=True)
class Pricing:
    """A checkout priced: its sellable lines, the SKUs not sold any more, shipping and total."""

    lines: tuple[QuotedLine, ...]  # the sellable lines, in the checkout's order
    unsellable: tuple[str, ...]  # SKUs the catalog no longer sells: checkout refuses them
    subtotal: Money
    shipping_cost: Money | None  # None: no shipping method chosen, or not offered for the address
    total: Money


@dataclass(frozen=True)
class ShippingOption:
    """A shipping method offered, as checkout shows and prices it."""

    code: str
    name: str


def shipping_rates(country: str | None) -> list[tuple[ShippingOption, Money]]:
    """
    Active methods with their price for ``country`` (the ``*`` rate where none is specific), in
    the methods' order. One query, in SQL: every checkout update and completion prices shipping,
    and building the query with the ORM cost more than running it.
    """
    currency = settings.SHOP_CURRENCY
    countries = ["*", country] if country else ["*"]
    rows = fetch(
        f"""
        SELECT m.code, m.name, r.country, r.amount
        FROM {ShippingRate._meta.db_table} r JOIN {ShippingMethod._meta.db_table} m ON m.id = r.method_id
        WHERE m.is_active AND r.currency = %s AND r.country IN ({placeholders(len(countries))})
        ORDER BY m.position, m.code
        """,  # noqa: S608 - the models' tables; every value is a parameter
        [currency, *countries],
    )
    chosen: dict[str, tuple[ShippingOption, Money, bool]] = {}
    for code, name, country_code, amount in rows:
        specific = country_code != "*"
        current = chosen.get(code)
        if current is None or (specific and not current[2]):
            price = Money(as_decimal(amount), currency)
            chosen[code] = (ShippingOption(code=code, name=name), price, specific)
    return [(option, price) for option, price, _ in chosen.values()]


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
