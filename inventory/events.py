"""Events the inventory publishes (through the outbox, in the transaction of the change)."""

from dataclasses import dataclass

from shop.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class StockChanged(Event):
    """
    The stock of a SKU changed (received, adjusted, reserved, released, allocated, returned, or
    an expired reservation cleaned up). ``available`` is as ``inventory.api.get_availability``
    reports it after the change; ``in_stock`` is ``available > 0``.

    Delivery is at least once and not necessarily in order: a consumer that keeps a flag should
    ask ``get_availability`` for the current value rather than trust an older event's.
    """

    event_type = "inventory.StockChanged"

    sku: str
    available: int
    in_stock: bool
