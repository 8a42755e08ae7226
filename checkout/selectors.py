"""Checkout's reads: pricing of a checkout (current catalog prices), shipping, orders."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from catalog import api as catalog_api
from checkout.models import Checkout, Order, OrderLine, ShippingMethod, ShippingRate
from shop.kernel.money import Money


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


@dataclass(frozen=True)
class Pricing:
    lines: tuple[PricedLine, ...]
    unsellable: tuple[str, ...]
    subtotal: Money
    shipping_cost: Money | None
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
    if not checkout.shipping_method:
        return None
    country = (checkout.shipping_address or {}).get("country")
    for method, price in shipping_rates(country):
        if method.code == checkout.shipping_method:
            return price
    return None


def price_checkout(checkout: Checkout) -> Pricing:
    """Price the checkout's lines at the catalog's current prices (one catalog query)."""
    currency = settings.SHOP_CURRENCY
    variants = catalog_api.get_variants(skus=[line["sku"] for line in checkout.lines], currency=currency)
    lines, unsellable = [], []
    subtotal = Money(Decimal(0), currency)
    for line in checkout.lines:
        variant = variants.get(line["sku"])
        if variant is None or not variant.is_sellable or variant.price is None:
            unsellable.append(line["sku"])
            continue
        total = variant.price * line["quantity"]
        lines.append(
            PricedLine(
                sku=variant.sku,
                name=variant.display_name,
                quantity=line["quantity"],
                unit_price=variant.price,
                line_total=total,
            )
        )
        subtotal = subtotal + total
    shipping = shipping_price(checkout)
    return Pricing(
        lines=tuple(lines),
        unsellable=tuple(unsellable),
        subtotal=subtotal,
        shipping_cost=shipping,
        total=subtotal + shipping if shipping else subtotal,
    )


def checkout_for(checkout_id, customer_id: int | None) -> Checkout | None:
    """The checkout if this customer (or a guest, for a guest checkout) may see it."""
    checkout = Checkout.objects.filter(pk=checkout_id).first()
    if checkout is None or (checkout.customer_id is not None and checkout.customer_id != customer_id):
        return None
    return checkout


def orders_of(customer_id: int) -> QuerySet:
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_for(number: str, *, customer_id: int | None, token_digest: str | None) -> Order | None:
    """The order if it belongs to this customer or the access token matches, else None."""
    access = Q(pk__in=[])
    if customer_id is not None:
        access |= Q(customer_id=customer_id)
    if token_digest:
        access |= Q(access_token_digest=token_digest)
    return Order.objects.filter(access, number=number).prefetch_related("lines").first()


def order_by_number(number: str) -> Order | None:
    return Order.objects.filter(number=number).first()
