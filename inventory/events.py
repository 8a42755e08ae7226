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

    ``in_stock_changed`` says whether ``in_stock`` differs from what it was before the change, as
    readers saw it (expired reservations not counted) or as the stored counters said (so that the
    clean-up of an expired reservation, which readers had already discounted, counts too): a
    consumer that keeps only the flag (the catalog) needs no other event. Payloads written
    before the field existed read as True.
    """

    event_type = "inventory.StockChanged"

    sku: str
    available: int
    in_stock: bool
    in_stock_changed: bool = True
