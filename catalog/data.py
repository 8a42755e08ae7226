"""Data that crosses the catalog's border: frozen dataclasses of stdlib and kernel types."""

from dataclasses import dataclass, field
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
class QuotedLine:
    """
    One line of a ``Quote``: a SKU and a quantity at the catalog's current price. A line the
    catalog does not sell (an unknown SKU, an inactive variant or product, no price in the
    currency) has ``sellable`` False and no prices; its name is then the SKU if it is unknown.
    """

    sku: str
    quantity: int
    name: str  # "Product (Variant)", as ``VariantInfo.display_name``
    product_slug: str | None  # None: the SKU is unknown
    sellable: bool
    unit_price: Money | None  # None when not sellable
    line_total: Money | None  # unit price times quantity, rounded by Money; None when not sellable


@dataclass(frozen=True)
class Quote:
    """
    What ``catalog.api.quote`` says lines cost: each line as given, in order, and the subtotal
    of the sellable ones (the unsellable are left out of it, never priced at zero).
    """

    currency: str
    lines: tuple[QuotedLine, ...]
    subtotal: Money

    @property
    def unsellable(self) -> tuple[str, ...]:
        """The SKUs of the lines the catalog does not sell, in order."""
        return tuple(line.sku for line in self.lines if not line.sellable)


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


@dataclass(frozen=True)
class VariantRow:
    """
    A variant as a product import gives it (``catalog.api.upsert_products``). ``is_active`` False
    takes the variant off sale without deleting it: it leaves the product page, the product's
    ``price_from`` and ``in_stock`` and the feeds; True puts it back.
    """

    sku: str
    name: str
    is_active: bool = True


@dataclass(frozen=True)
class ProductRow:
    """
    A product as a product import gives it: found by ``slug`` (created if new), in the category
    ``category_slug``, with attribute values by attribute code (JSON types: str for text, int for
    integer, int/float/decimal string for decimal, bool for boolean) and its variants by SKU.
    Variants and attributes not named are left as they are.
    """

    slug: str
    name: str
    category_slug: str
    description: str = ""
    attributes: dict[str, object] = field(default_factory=dict)
    variants: tuple[VariantRow, ...] = ()


@dataclass(frozen=True)
class ProductProblems:
    """Why ``catalog.api.check_products`` refuses (part of) one ``ProductRow``."""

    product: tuple[str, ...] = ()  # the whole product is refused
    skus: dict[str, str] = field(default_factory=dict)  # only these variants are refused, by SKU

    def __bool__(self) -> bool:
        return bool(self.product or self.skus)


@dataclass(frozen=True)
class UpsertResult:
    """What ``catalog.api.upsert_products`` did with a batch of products."""

    products_created: int
    products_updated: int  # existing products of which something changed
    products_unchanged: int
    variants_created: int
    variants_updated: int
