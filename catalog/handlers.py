"""
Subscribers to other contexts' events: the catalog's read models follow them.

Delivery is at least once and not necessarily in order; the kernel's inbox makes each handler
run once per event, and the handlers set state from the source of truth, so that the order in
which events arrive does not matter.
"""

from catalog import services
from inventory import api as inventory
from inventory.events import StockChanged
from shop.kernel.subscribers import event_handler


@event_handler(
    StockChanged,
    name="catalog.on_stock_changed",
    # Only a change that may flip the flag is the catalog's business: an order taking 3 of 500
    # sends this worker no task (a campaign's every reservation did before).
    when=lambda payload: payload.get("in_stock_changed", True),
)
def on_stock_changed(event: StockChanged) -> None:
    """
    Set the ``in_stock`` flags of the SKU's variant and its product. The event says which SKU
    changed; the current availability, asked of the inventory, says what the flag is, so that
    an older event handled after a newer one cannot leave a stale flag.
    """
    availability = inventory.get_availability(skus=[event.sku])[event.sku]
    services.stock_flags_set(sku=event.sku, in_stock=availability.available > 0)
