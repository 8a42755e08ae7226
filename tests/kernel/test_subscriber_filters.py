"""
A subscriber may say which events it wants (``event_handler(..., when=...)``): the relay sends it
no task for the others and counts them handled for it, and its task run by hand on one of them
does nothing. Checkout's refund and integrations' hand-over cancel want canceled orders only: an
order's other status changes cost them no task.
"""

import pytest
from django.db import transaction

from checkout.events import OrderStatusChanged
from shop.kernel import outbox
from shop.kernel.events import publish
from shop.kernel.models import OutboxMessage, ProcessedEvent
from shop.kernel.subscriptions import subscribers
from tests.kernel.brokers import intercept

pytestmark = pytest.mark.django_db(transaction=True)

ON_CANCEL = ["checkout.refund_canceled_order", "integrations.erp_cancel_handover"]


def changed(status: str) -> dict:
    return {"number": "261207-TEST0001", "previous_status": "paid", "status": status}


def test_the_registry_names_the_subscribers_that_want_an_event():
    assert subscribers("checkout.OrderStatusChanged", changed("handed_over")) == []
    assert subscribers("checkout.OrderStatusChanged", changed("canceled")) == ON_CANCEL
    assert subscribers("checkout.OrderStatusChanged") == ON_CANCEL  # without a payload: all


def test_the_relay_sends_an_event_only_to_the_subscribers_that_want_it(monkeypatch):
    sent = []
    for name in ON_CANCEL:
        intercept(
            monkeypatch, name, lambda envelope, name=name: sent.append((name, envelope["payload"]["status"]))
        )

    with transaction.atomic():
        publish(OrderStatusChanged(**changed("handed_over")))
        publish(OrderStatusChanged(**changed("canceled")))
    outbox.relay()

    assert sorted(sent) == [(name, "canceled") for name in ON_CANCEL]
    unwanted, wanted = OutboxMessage.objects.order_by("id")
    assert unwanted.sent_at is not None and unwanted.handled_at is not None  # nobody to wait for
    assert wanted.handled_at is None  # its subscribers' inbox rows are awaited


def test_a_subscriber_does_not_run_for_an_event_it_does_not_want_even_sent_by_hand():
    from checkout.handlers import refund_canceled_order

    envelope = {"id": "00000000-0000-0000-0000-000000000001", "type": "checkout.OrderStatusChanged"}
    envelope["payload"] = changed("shipped")

    assert refund_canceled_order.run(envelope) is False
    assert not ProcessedEvent.objects.exists()
