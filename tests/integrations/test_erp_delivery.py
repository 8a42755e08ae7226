"""
The delivery service against the ERP simulator over real HTTP, one attempt at a time (no worker:
the tests call the service as the task does; enqueued messages are not sent in these tests).
"""

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from checkout import api as checkout_api
from integrations import erp_client
from integrations.handlers import erp_cancel_handover, erp_record_handover
from integrations.models import ErpHandover
from integrations.services import erp as erp_services
from shop.kernel.models import OutboxMessage
from tests.integrations.erp_support import (
    cancel_order,
    create_shipping_methods,
    order_view,
    place_orders,
    place_orders_with_tokens,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def erp_settings(settings):
    settings.ERP_MAX_ATTEMPTS = 3
    settings.ERP_BACKOFF_BASE_SECONDS = 2.0
    settings.ERP_BACKOFF_MAX_SECONDS = 60.0
    settings.ERP_BREAKER_THRESHOLD = 100
    settings.ERP_BREAKER_COOLDOWN_SECONDS = 60.0
    settings.ERP_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.ERP_READ_TIMEOUT_SECONDS = 2.0
    return settings


@pytest.fixture
def order_number(db):
    create_shipping_methods()
    return place_orders(1)[0]


def _handover(number: str) -> ErpHandover:
    handover, created = erp_services.handover_create(order_number=number, payload={"number": number})
    assert created
    return handover


def _make_due(number: str) -> None:
    ErpHandover.objects.filter(order_number=number).update(next_attempt_at=timezone.now())


def test_delivered_stores_the_reference_and_hands_the_order_over(erp_simulator, order_number):
    _handover(order_number)

    assert erp_services.handover_deliver(order_number=order_number) == "delivered"

    handover = ErpHandover.objects.get(order_number=order_number)
    [received] = erp_simulator.orders()
    assert received == {
        "order_number": order_number,
        "erp_reference": handover.erp_reference,
        "deliveries": 1,
    }
    assert (handover.status, handover.attempts, handover.last_error) == ("delivered", 1, "")
    assert handover.delivered_at is not None
    order = checkout_api.get_order(number=order_number)
    assert (order.status, order.erp_reference) == ("handed_over", handover.erp_reference)
    # A second message for it does nothing.
    assert erp_services.handover_deliver(order_number=order_number) == "skipped"
    assert erp_simulator.orders()[0]["deliveries"] == 1


def test_a_503_is_retried_later_with_backoff(erp_simulator, order_number):
    _handover(order_number)
    erp_simulator.control(fail_rate=1.0)
    before = timezone.now()

    assert erp_services.handover_deliver(order_number=order_number) == "retrying"

    handover = ErpHandover.objects.get(order_number=order_number)
    assert (handover.status, handover.attempts) == ("pending", 1)
    assert "HTTP 503" in handover.last_error
    delay = (handover.next_attempt_at - before).total_seconds()
    assert 1.0 <= delay <= 2.5  # half the first step (2 s) fixed, half jitter
    # Not due yet: an early message does nothing.
    assert erp_services.handover_deliver(order_number=order_number) == "skipped"
    assert ErpHandover.objects.get(order_number=order_number).attempts == 1


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(erp_settings):
    for attempts in range(1, 10):
        step = min(60.0, 2.0 * 2 ** (attempts - 1))
        delays = [erp_services.backoff_delay(attempts) for _ in range(50)]
        assert all(step / 2 <= delay <= step for delay in delays)
        assert len(set(delays)) > 1  # jittered
    assert erp_services.backoff_delay(30) <= 60.0


def test_after_the_cap_it_is_dead_lettered_with_the_last_error(erp_simulator, order_number):
    _handover(order_number)
    erp_simulator.control(fail_rate=1.0)
    outcomes = []
    for _ in range(3):
        outcomes.append(erp_services.handover_deliver(order_number=order_number))
        _make_due(order_number)

    assert outcomes == ["retrying", "retrying", "failed"]
    handover = ErpHandover.objects.get(order_number=order_number)
    assert (handover.status, handover.attempts) == ("failed", 3)
    assert "Gave up after 3 attempts" in handover.last_error and "503" in handover.last_error
    assert erp_services.handover_deliver(order_number=order_number) == "skipped"
    assert checkout_api.get_order(number=order_number).status == "paid"

    # Staff retry: from scratch, and it is delivered once the ERP is back.
    erp_simulator.control(fail_rate=0.0)
    erp_services.handover_retry(order_number=order_number)
    handover.refresh_from_db()
    assert (handover.status, handover.attempts) == ("pending", 0)
    assert erp_services.handover_deliver(order_number=order_number) == "delivered"
    assert checkout_api.get_order(number=order_number).status == "handed_over"


def test_a_timeout_and_a_refused_connection_count_as_unavailable(erp_simulator, order_number, settings):
    _handover(order_number)
    erp_simulator.control(latency_ms=1500)
    settings.ERP_READ_TIMEOUT_SECONDS = 0.3
    assert erp_services.handover_deliver(order_number=order_number) == "retrying"
    assert "timeout" in ErpHandover.objects.get(order_number=order_number).last_error

    _make_due(order_number)
    settings.ERP_URL = "http://127.0.0.1:1"
    assert erp_services.handover_deliver(order_number=order_number) == "retrying"
    handover = ErpHandover.objects.get(order_number=order_number)
    assert handover.attempts == 2
    assert "ConnectionRefused" in handover.last_error


def test_a_repeated_delivery_gets_the_same_reference(erp_simulator, order_number):
    _handover(order_number)
    assert erp_services.handover_deliver(order_number=order_number) == "delivered"
    first = ErpHandover.objects.get(order_number=order_number).erp_reference
    # As if the answer had been lost: the row is pending again and the order is sent once more.
    ErpHandover.objects.filter(order_number=order_number).update(status="pending", erp_reference="")

    assert erp_services.handover_deliver(order_number=order_number) == "delivered"

    assert ErpHandover.objects.get(order_number=order_number).erp_reference == first
    [received] = erp_simulator.orders()
    assert (received["erp_reference"], received["deliveries"]) == (first, 2)


def test_the_circuit_breaker_opens_after_consecutive_failures_and_closes_after_a_probe(
    erp_simulator, settings
):
    settings.ERP_BREAKER_THRESHOLD = 2
    settings.ERP_BREAKER_COOLDOWN_SECONDS = 0.5
    create_shipping_methods()
    numbers = place_orders(3)
    for number in numbers:
        _handover(number)
    erp_simulator.control(fail_rate=1.0)
    assert erp_services.handover_deliver(order_number=numbers[0]) == "retrying"
    assert erp_services.handover_deliver(order_number=numbers[1]) == "retrying"

    # Open: no call (the ERP is back, yet nothing arrives), no attempt counted, rescheduled.
    erp_simulator.control(fail_rate=0.0)
    assert erp_services.handover_deliver(order_number=numbers[2]) == "deferred"
    deferred = ErpHandover.objects.get(order_number=numbers[2])
    assert (deferred.status, deferred.attempts) == ("pending", 0)
    assert "Circuit breaker open" in deferred.last_error
    assert deferred.next_attempt_at > timezone.now()
    assert erp_simulator.orders() == []

    # After the cool-down one probe goes through; its success closes the breaker.
    ErpHandover.objects.filter(order_number__in=numbers).update(
        next_attempt_at=timezone.now() + timedelta(seconds=0.6)
    )
    import time

    time.sleep(0.7)
    assert erp_services.handover_deliver(order_number=numbers[2]) == "delivered"
    assert erp_client.breaker.open_until() is None
    assert erp_services.handover_deliver(order_number=numbers[0]) == "delivered"
    assert erp_services.handover_deliver(order_number=numbers[1]) == "delivered"
    assert len(erp_simulator.orders()) == 3


def test_the_breaker_fails_open_when_the_cache_is_down(erp_simulator, settings, order_number):
    settings.ERP_BREAKER_THRESHOLD = 1
    _handover(order_number)
    broken = mock.Mock(side_effect=ConnectionError("cache down"))
    with (
        mock.patch.object(erp_client.cache, "get", broken),
        mock.patch.object(erp_client.cache, "add", broken),
        mock.patch.object(erp_client.cache, "incr", broken),
        mock.patch.object(erp_client.cache, "set", broken),
        mock.patch.object(erp_client.cache, "delete_many", broken),
    ):
        erp_client.breaker.record_failure()
        assert erp_client.breaker.open_until() is None
        assert erp_services.handover_deliver(order_number=order_number) == "delivered"


@pytest.fixture
def placed_order(db) -> tuple[str, str]:
    """A paid order's number and access token."""
    create_shipping_methods()
    return place_orders_with_tokens(1)[0]


def test_a_rejected_order_is_dead_lettered_at_once_and_can_be_canceled_again(
    erp_simulator, settings, placed_order
):
    number, token = placed_order
    _handover(number)
    settings.ERP_URL = erp_simulator.url + "/nowhere"  # the simulator answers 404
    assert erp_services.handover_deliver(order_number=number) == "failed"
    handover = ErpHandover.objects.get(order_number=number)
    assert (handover.status, handover.attempts) == ("failed", 1)
    assert "Rejected by the ERP: HTTP 404" in handover.last_error
    # The ERP has not got the order: fulfilment gives it back, and the customer may cancel it.
    assert order_view(number, token)["cancelable"] is True
    assert cancel_order(number, token).status_code == 200
    assert checkout_api.get_order(number=number).status == "canceled"


def test_an_order_canceled_before_its_hand_over_is_never_sent(erp_simulator, placed_order):
    number, token = placed_order
    _handover(number)
    assert cancel_order(number, token).status_code == 200

    assert erp_services.handover_deliver(order_number=number) == "canceled"

    assert erp_simulator.orders() == []  # the ERP never heard of it
    handover = ErpHandover.objects.get(order_number=number)
    assert (handover.status, handover.erp_reference) == ("canceled", "")
    assert "canceled before its hand-over" in handover.last_error
    assert checkout_api.get_order(number=number).status == "canceled"
    # A later message changes nothing.
    assert erp_services.handover_deliver(order_number=number) == "skipped"
    assert erp_simulator.orders() == []


def test_a_cancel_ends_a_waiting_hand_over_at_once(erp_simulator, placed_order):
    number, token = placed_order
    _handover(number)
    ErpHandover.objects.filter(order_number=number).update(  # waiting for its next attempt
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert cancel_order(number, token).status_code == 200

    canceled = OutboxMessage.objects.filter(event_type="checkout.OrderStatusChanged").latest("id")
    assert canceled.payload["status"] == "canceled"
    assert erp_cancel_handover(canceled.envelope()) is True  # the subscriber's task, in-process

    assert ErpHandover.objects.get(order_number=number).status == "canceled"
    _make_due(number)
    assert erp_services.handover_deliver(order_number=number) == "skipped"
    assert erp_simulator.orders() == []


def test_once_the_hand_over_has_begun_the_cancel_is_refused(erp_simulator, placed_order):
    """The ERP may have the order from the first request on: the customer's cancel is a 409."""
    number, token = placed_order
    _handover(number)
    erp_simulator.control(fail_rate=1.0)  # the first attempt reaches the ERP, whose answer is lost
    assert erp_services.handover_deliver(order_number=number) == "retrying"

    response = cancel_order(number, token)

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "not_cancelable"
    assert order_view(number, token)["cancelable"] is False
    erp_simulator.control(fail_rate=0.0)
    _make_due(number)
    assert erp_services.handover_deliver(order_number=number) == "delivered"
    assert checkout_api.get_order(number=number).status == "handed_over"


def test_the_sweep_gives_back_stuck_hand_overs_and_dead_letters_them_at_the_cap(settings):
    settings.ERP_IN_FLIGHT_TIMEOUT_SECONDS = 60
    long_ago = timezone.now() - timedelta(seconds=61)
    _handover("SO-STUCK-1")
    _handover("SO-STUCK-2")
    _handover("SO-FRESH-1")
    ErpHandover.objects.filter(order_number="SO-STUCK-1").update(
        status="in_flight", claimed_at=long_ago, attempts=1
    )
    ErpHandover.objects.filter(order_number="SO-STUCK-2").update(
        status="in_flight", claimed_at=long_ago, attempts=3
    )
    ErpHandover.objects.filter(order_number="SO-FRESH-1").update(
        status="in_flight", claimed_at=timezone.now()
    )

    with mock.patch.object(erp_services, "_enqueue") as enqueue:
        requeued = erp_services.handovers_requeue()

    statuses = dict(ErpHandover.objects.values_list("order_number", "status"))
    assert statuses == {"SO-STUCK-1": "pending", "SO-STUCK-2": "failed", "SO-FRESH-1": "in_flight"}
    assert requeued == 1
    enqueue.assert_called_once_with("SO-STUCK-1")


def test_the_sweep_resends_overdue_pending_hand_overs(settings):
    settings.ERP_REQUEUE_GRACE_SECONDS = 60
    _handover("SO-DUE-1")
    _handover("SO-DUE-2")
    ErpHandover.objects.filter(order_number="SO-DUE-1").update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )

    with mock.patch.object(erp_services, "_enqueue") as enqueue:
        assert erp_services.handovers_requeue() == 1
    enqueue.assert_called_once_with("SO-DUE-1")


def test_the_event_handler_records_one_hand_over_per_order_whatever_the_deliveries():
    envelope = {
        "id": str(uuid.uuid4()),
        "type": "checkout.OrderPlaced",
        "payload": {
            "number": "SO-EVT-1",
            "customer_id": None,
            "email": "ada@example.com",
            "currency": "EUR",
            "subtotal": "10.00",
            "shipping_cost": "4.90",
            "total": "14.90",
            "shipping_method": "standard",
            "shipping_address": {},
            "lines": [{"sku": "A-1", "quantity": 1}],
        },
    }
    assert erp_record_handover(envelope) is True
    assert erp_record_handover(envelope) is False  # the inbox: the same event again
    assert erp_record_handover({**envelope, "id": str(uuid.uuid4())}) is True  # another event, same order

    handover = ErpHandover.objects.get()
    assert (handover.order_number, handover.status) == ("SO-EVT-1", "pending")
    assert handover.payload["total"] == "14.90"
    assert handover.payload["lines"] == [{"sku": "A-1", "quantity": 1}]


def _placed_with_messages_caught(monkeypatch) -> tuple[str, dict, list]:
    """An order placed, its ``OrderPlaced`` as the relay sends it, and the delivery messages sent."""
    from tests.kernel.brokers import intercept

    create_shipping_methods()
    [number] = place_orders(1)
    messages = []
    intercept(monkeypatch, "integrations.erp_deliver_handover", lambda *args, **kwargs: messages.append(args))
    payload = OutboxMessage.objects.get(event_type="checkout.OrderPlaced").payload
    return number, {"id": str(uuid.uuid4()), "type": "checkout.OrderPlaced", "payload": payload}, messages


@pytest.mark.django_db(transaction=True)
def test_the_recording_worker_makes_the_first_attempt_itself_without_a_delivery_message(
    erp_simulator, monkeypatch
):
    number, envelope, messages = _placed_with_messages_caught(monkeypatch)

    assert erp_record_handover(envelope) is True  # recorded, committed, then attempted here

    handover = ErpHandover.objects.get(order_number=number)
    assert (handover.status, handover.attempts) == ("delivered", 1)
    assert [order["order_number"] for order in erp_simulator.orders()] == [number]
    assert messages == []  # no second task for the first attempt


@pytest.mark.django_db(transaction=True)
def test_a_first_attempt_that_fails_here_is_retried_by_a_message(erp_simulator, monkeypatch):
    erp_simulator.control(fail_rate=1.0)
    number, envelope, messages = _placed_with_messages_caught(monkeypatch)

    assert erp_record_handover(envelope) is True

    handover = ErpHandover.objects.get(order_number=number)
    assert (handover.status, handover.attempts) == ("pending", 1)
    assert handover.next_attempt_at > timezone.now()
    assert messages == [(number,)]  # the retry, with its countdown, as every later attempt
