"""
The catalog's public functions: the only ones other contexts may call.

Other contexts know variants by SKU; they receive ``catalog.data`` dataclasses, never models.
"""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError

from catalog import selectors, services
from catalog.data import VariantInfo
from shop.kernel.money import Money, is_currency_code


class UnknownSku(LookupError):
    """No variant has this SKU."""


def get_variants(*, skus: Iterable[str], currency: str | None = None) -> dict[str, VariantInfo]:
    """
    Return the variants of ``skus`` that exist, by SKU, with their price in ``currency``
    (default: the shop currency). Unknown SKUs are absent from the result. One query.
    """
    currency = currency or settings.SHOP_CURRENCY
    rows = selectors.variants_by_sku(list(dict.fromkeys(skus)), currency)
    return {
        row["sku"]: VariantInfo(
            sku=row["sku"],
            name=row["name"],
            product_slug=row["product_slug"],
            product_name=row["product_name"],
            is_sellable=bool(row["is_active"] and row["product_active"] and row["amount"] is not None),
            price=None if row["amount"] is None else Money(row["amount"], currency),
        )
        for row in rows
    }


def set_price(*, sku: str, amount: Decimal | str, currency: str) -> Money:
    """
    Set the price of ``sku`` in ``currency``; publishes ``PriceChanged`` if it changed.

    Raises:
        UnknownSku: no variant has ``sku``.
        ValueError: ``amount`` is not a non-negative decimal or ``currency`` not an ISO code.
    """
    if not is_currency_code(currency):
        raise ValueError(f"Not an ISO 4217 currency code: {currency!r}")
    try:
        money = Money(Decimal(amount), currency)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"Not a decimal amount: {amount!r}") from exc
    if money.amount < 0:
        raise ValueError("A price cannot be negative.")
    variant = selectors.variant_by_sku(sku)
    if variant is None:
        raise UnknownSku(sku)
    try:
        price = services.price_set(variant=variant, currency=currency, amount=money.amount)
    except ValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from exc
    return Money(price.amount, price.currency)
