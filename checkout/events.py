"""Events checkout publishes (through the outbox, in the transaction of the change)."""

from dataclasses import dataclass, field
from decimal import Decimal

from shop.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(Event):
    """An order was placed (and its stock allocated): what the ERP hand-over needs to know."""

    event_type = "checkout.OrderPlaced"

    number: str
    customer_id: int | None
    email: str
    currency: str
    subtotal: Decimal
    shipping_cost: Decimal
    total: Decimal
    shipping_method: str
    shipping_address: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)  # [{sku, name, quantity, unit_price, line_total}]


@dataclass(frozen=True, kw_only=True)
class OrderStatusChanged(Event):
    """An order moved from one status to another."""

    event_type = "checkout.OrderStatusChanged"

    number: str
    previous_status: str
    status: str
