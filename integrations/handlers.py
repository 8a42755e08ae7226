"""Integrations listen to other contexts' events here (see the README)."""

from checkout.events import OrderPlaced, OrderStatusChanged
from integrations.services import erp as erp_services
from shop.kernel import logcontext
from shop.kernel.subscribers import event_handler


# Routed to the ``erp`` queue by its name, with the deliveries it enqueues.
@event_handler(
    OrderPlaced, name="integrations.erp_record_handover", acks_late=True, reject_on_worker_lost=True
)
def erp_record_handover(event: OrderPlaced) -> None:
    """
    A placed order is to be handed over to the ERP: record it; the first attempt follows here,
    once the record (and the inbox row) committed: one task an order instead of two.
    """
    logcontext.bind(order_number=event.number)
    erp_services.handover_create(order_number=event.number, payload=event.to_payload(), attempt_here=True)


@event_handler(
    OrderStatusChanged,
    name="integrations.erp_cancel_handover",
    when=lambda payload: payload["status"] == "canceled",  # no task for the other changes
)
def erp_cancel_handover(event: OrderStatusChanged) -> None:
    """A canceled order's waiting hand-over ends as canceled, so staff never see it pending."""
    logcontext.bind(order_number=event.number)
    erp_services.handover_cancel(order_number=event.number)
