"""Data that crosses the catalog's border: frozen dataclasses of stdlib and kernel types."""

from dataclasses import dataclass

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
