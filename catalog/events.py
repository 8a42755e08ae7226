"""Events the catalog publishes (through the outbox, in the transaction of the change)."""

from dataclasses import dataclass, field
from decimal import Decimal

from shop.kernel.events import Event
from shop.kernel.money import Money, is_currency_code


@dataclass(frozen=True, kw_only=True)
class ProductChanged(Event):
    """A product, one of its variants or attributes was created, changed or deleted."""

    event_type = "catalog.ProductChanged"

    product_id: int
    slug: str
    change: str  # "created", "updated" or "deleted"
    skus: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class PriceChanged(Event):
    """The price of a SKU in a currency was set, changed or removed (``amount`` None)."""

    event_type = "catalog.PriceChanged"

    sku: str
    currency: str
    amount: Decimal | None
    previous_amount: Decimal | None = None

    def __post_init__(self):
        # Amounts read from the four-place column are written with the currency's minor units
        # ("19.99", not "19.9900"), as the API writes them; the value is the same.
        for name in ("amount", "previous_amount"):
            value = getattr(self, name)
            if value is not None and is_currency_code(self.currency):
                object.__setattr__(self, name, Money(value, self.currency).amount)
