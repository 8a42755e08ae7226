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

    @property
    def display_name(self) -> str:
        """How carts, checkouts and orders name the SKU: "Product (Variant)"."""
        if not self.name or self.name == self.product_name:
            return self.product_name
        return f"{self.product_name} ({self.name})"
