"""Data that crosses the catalog's border: frozen dataclasses of stdlib and kernel types."""

from dataclasses import dataclass
from decimal import Decimal

from shop.kernel.money import Money


@dataclass(frozen=True)
class VariantInfo:
    """What other contexts (cart, checkout, integrations) need to know about a SKU."""

    sku: str
    name: str
    product_slug: str
    product_name: str
    is_sellable: bool
    price: Money | None

    @property
    def display_name(self) -> str:
        """How carts, checkouts and orders name the SKU: "Product (Variant)"."""
        if not self.name or self.name == self.product_name:
            return self.product_name
        return f"{self.product_name} ({self.name})"


@dataclass(frozen=True)
class FeedRow:
    """A sellable variant as a product feed (an export) lists it: one price, in one currency."""

    sku: str
    name: str
    product_slug: str
    product_name: str
    amount: Decimal
    currency: str
    in_stock: bool

    @property
    def display_name(self) -> str:
        """ "Product (Variant)", as ``VariantInfo.display_name``."""
        if not self.name or self.name == self.product_name:
            return self.product_name
        return f"{self.product_name} ({self.name})"


@dataclass(frozen=True)
class PriceResult:
    """What ``catalog.api.set_prices`` did with a batch of prices."""

    changed: int  # new or different prices written (one ``PriceChanged`` each)
    unchanged: int  # known SKUs whose price already was the given one
    unknown_skus: frozenset[str]  # skipped: no variant has them
