"""
ERP hand-over end to end: orders placed over HTTP, the outbox relayed by a real Celery worker on
the real Redis broker, hand-overs delivered by that worker to the ERP simulator over real HTTP.

The test process places orders and watches the database and the simulator; where it plays beat,
it sends the beat's task (the outbox sweep, the hand-over sweep) through the broker like beat does.
"""

import base64
import json
import time

import pytest

from checkout import api as checkout_api
from integrations.models import ErpHandover
from integrations.tasks.erp import erp_requeue_handovers
from shop.kernel import outbox
from shop.kernel.models import OutboxMessage
from shop.kernel.tasks import redeliver_outbox, relay_outbox
from tests.integrations.conftest import wait_for
from tests.integrations.erp_support import (
    cancel_order,
    create_shipping_methods,
    order_view,
    place_orders,
    place_orders_with_tokens,
)
from tests.kernel.brokers import BrokerOutage, broker_at
from tests.run_state import celery_queue_key

WAIT_SECONDS = 60
QUEUES = ["default", "erp"]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(300),
    pytest.mark.django_db(transaction=True),
]


def _worker_env(simulator, **overrides) -> dict[str, str]:
    env = {
        "ERP_URL": simulator.url,
        "ERP_MAX_ATTEMPTS": "4",
        "ERP_BACKOFF_BASE_SECONDS": "0.4",
        "ERP_BACKOFF_MAX_SECONDS": "5",
        "ERP_BREAKER_THRESHOLD": "1000",  # this file tests backoff and the cap; the breaker has unit tests
        "ERP_CONNECT_TIMEOUT_SECONDS": "1",
        "ERP_READ_TIMEOUT_SECONDS": "5",
        "ERP_REQUEUE_GRACE_SECONDS": "1",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


@pytest.fixture(autouse=True)
def shipping_methods(transactional_db):
    create_shipping_methods()


class Sweeper:
    """
    Plays beat: every few seconds, the outbox sweep, the outbox's redelivery and the hand-over
    sweep go to the broker.
    """

    def __init__(self, every: float = 3.0):
        self.every = every
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last >= self.every:
            relay_outbox.apply_async()
            redeliver_outbox.apply_async()
            erp_requeue_handovers.apply_async()
            self.last = time.monotonic()


def _wait(condition, *, sweeper: Sweeper | None = None, seconds: float = WAIT_SECONDS) -> bool:
    def check() -> bool:
        if sweeper is not None:
            sweeper()
        return condition()

    return wait_for(check, seconds=seconds, interval=0.1)


def _received(simulator, numbers) -> list[dict]:
    return [order for order in simulator.orders() if order["order_number"] in numbers]


def test_each_placed_order_reaches_the_erp_exactly_once(erp_simulator, celery_worker):
    worker = celery_worker(queues=QUEUES, env=_worker_env(erp_simulator))

    numbers = place_orders(5)

    assert len(set(numbers)) == 5
    sweeper = Sweeper(every=10)
    assert _wait(lambda: len(_received(erp_simulator, numbers)) == 5, sweeper=sweeper), worker.log()
    assert _wait(lambda: ErpHandover.objects.filter(status="delivered").count() == 5, sweeper=sweeper), (
        worker.log()
    )
    received = {order["order_number"]: order for order in _received(erp_simulator, numbers)}
    assert sorted(received) == sorted(numbers)
    assert all(order["deliveries"] == 1 for order in received.values()), received
    assert len({order["erp_reference"] for order in received.values()}) == 5
    for number in numbers:
        order = checkout_api.get_order(number=number)
        assert order.status == "handed_over"
        assert order.erp_reference == received[number]["erp_reference"]
        handover = ErpHandover.objects.get(order_number=number)
        assert (handover.attempts, handover.erp_reference) == (1, order.erp_reference)


def test_erp_down_checkout_succeeds_hand_overs_back_off_dead_letter_and_retry_delivers(
    erp_simulator, celery_worker, api_client
):
    from django.contrib.auth import get_user_model

    worker = celery_worker(queues=QUEUES, env=_worker_env(erp_simulator))
    started = time.monotonic()
    place_orders(1)  # the ERP up, for comparison
    print(f"\ncheckout with the ERP up: {time.monotonic() - started:.3f}s")
    assert wait_for(lambda: len(erp_simulator.orders()) == 1, seconds=WAIT_SECONDS), worker.log()
    erp_simulator.forget()
    erp_simulator.control(fail_rate=1.0)

    started = time.monotonic()
    numbers = place_orders(3)
    print(f"3 checkouts with the ERP down: {time.monotonic() - started:.3f}s")  # printed, never asserted

    # Follow the backoff: after each failed attempt, the delay until the next one, per hand-over.
    delays: dict[str, dict[int, float]] = {number: {} for number in numbers}

    def dead_lettered() -> bool:
        rows = list(ErpHandover.objects.filter(order_number__in=numbers))
        for handover in rows:
            if handover.status == "pending" and handover.attempts:
                delay = (handover.next_attempt_at - handover.updated_at).total_seconds()
                delays[handover.order_number][handover.attempts] = delay
        return len(rows) == 3 and all(handover.status == "failed" for handover in rows)

    assert wait_for(dead_lettered, seconds=WAIT_SECONDS, interval=0.03), worker.log()
    print(f"backoff delays by attempt: {delays}")
    seen = [[by_attempt[attempt] for attempt in sorted(by_attempt)] for by_attempt in delays.values()]
    assert any(len(series) >= 2 for series in seen), delays
    for series in seen:
        assert series == sorted(series), delays  # growing (equal jitter keeps each step >= the last)
    for handover in ErpHandover.objects.filter(order_number__in=numbers):
        assert handover.attempts == 4
        assert "Gave up after 4 attempts" in handover.last_error and "503" in handover.last_error
        assert checkout_api.get_order(number=handover.order_number).status == "paid"
    assert erp_simulator.orders() == []

    # The ERP is back; staff retry the dead letters through the API.
    erp_simulator.control(fail_rate=0.0)
    staff = get_user_model().objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    api_client.force_authenticate(staff)
    failed = api_client.get("/api/v1/integrations/handovers/", {"status": "failed"}).json()["results"]
    assert sorted(row["order_number"] for row in failed) == sorted(numbers)
    for number in numbers:
        response = api_client.post(f"/api/v1/integrations/handovers/{number}/retry/")
        assert response.status_code == 202, response.content

    sweeper = Sweeper(every=10)
    assert _wait(lambda: len(_received(erp_simulator, numbers)) == 3, sweeper=sweeper), worker.log()
    assert _wait(
        lambda: ErpHandover.objects.filter(order_number__in=numbers, status="delivered").count() == 3
    )
    assert all(order["deliveries"] == 1 for order in _received(erp_simulator, numbers))
    assert all(checkout_api.get_order(number=number).status == "handed_over" for number in numbers)


def test_orders_placed_while_the_broker_is_down_are_handed_over_by_the_sweep(erp_simulator, celery_worker):
    worker = celery_worker(queues=QUEUES, env=_worker_env(erp_simulator))
    outage = BrokerOutage()
    outage.start()
    try:
        numbers = place_orders(3)  # the orders succeed; the on-commit relay trigger cannot reach the broker
        waiting = OutboxMessage.objects.filter(event_type="checkout.OrderPlaced", sent_at__isnull=True)
        assert waiting.count() == 3
        time.sleep(1)
        assert not ErpHandover.objects.exists()
        assert erp_simulator.orders() == []
    finally:
        outage.restore()

    # The broker is back: beat's sweep relays the outbox, and the hand-overs follow.
    sweeper = Sweeper(every=3)
    sweeper.last = 0
    assert _wait(lambda: len(_received(erp_simulator, numbers)) == 3, sweeper=sweeper), worker.log()
    assert not OutboxMessage.objects.filter(event_type="checkout.OrderPlaced", sent_at__isnull=True).exists()
    assert _wait(lambda: ErpHandover.objects.filter(status="delivered").count() == 3), worker.log()
    assert all(order["deliveries"] == 1 for order in _received(erp_simulator, numbers))


def test_a_worker_killed_mid_hand_over_is_replaced_and_the_order_delivered_once(erp_simulator, celery_worker):
    env = _worker_env(erp_simulator, ERP_READ_TIMEOUT_SECONDS=30, ERP_IN_FLIGHT_TIMEOUT_SECONDS=3)
    first = celery_worker(queues=QUEUES, env=env)
    erp_simulator.control(latency_ms=4000)  # the ERP hangs: the request is still open when the kill lands

    [number] = place_orders(1)
    in_flight = ErpHandover.objects.filter(order_number=number, status="in_flight")
    assert _wait(in_flight.exists), first.log()
    time.sleep(0.5)
    first.kill()
    assert in_flight.exists()
    print(f"\nkilled the worker mid-request: {ErpHandover.objects.get(order_number=number).claimed_at}")

    erp_simulator.control(latency_ms=0)
    second = celery_worker(queues=QUEUES, env=env)
    sweeper = Sweeper(every=1)  # the hand-over sweep gives the stuck one back after the in-flight timeout
    delivered = ErpHandover.objects.filter(order_number=number, status="delivered")
    assert _wait(delivered.exists, sweeper=sweeper), second.log()

    handover = delivered.get()
    [received] = _received(erp_simulator, {number})  # the ERP knows the order once
    print(f"deliveries of {number} seen by the ERP: {received['deliveries']} (deduplicated by its key)")
    assert received["erp_reference"] == handover.erp_reference
    assert handover.attempts == 2
    order = checkout_api.get_order(number=number)
    assert (order.status, order.erp_reference) == ("handed_over", handover.erp_reference)


def test_orders_whose_messages_a_redis_restart_lost_still_reach_the_erp(
    erp_simulator, celery_worker, own_redis, settings
):
    """
    Redis restarts empty (as compose runs it: no persistence) while the ``OrderPlaced`` messages
    wait in the ``erp`` queue, after the outbox marked them sent: the outbox's redelivery finds the
    events without an inbox record and sends them again, so every paid order is handed over.
    """
    settings.OUTBOX_REDELIVER_SECONDS = 1  # as the worker's: look again a second after sending
    with broker_at(own_redis.url):
        numbers = place_orders(4)
        assert outbox.relay() >= 4  # a relay hands the events to the broker, as a worker would
    # The orders' OrderPlaced wait for the erp queue's subscriber, in one message of the four
    # (their OrderStatusChanged to paid send nothing: the hand-over's cancel subscribes to
    # cancellations only).
    [message] = own_redis.client().lrange(celery_queue_key("erp"), 0, -1)
    envelopes = json.loads(base64.b64decode(json.loads(message)["body"]))[1]["envelopes"]
    assert sorted(envelope["payload"]["number"] for envelope in envelopes) == sorted(numbers)
    assert OutboxMessage.objects.filter(event_type="checkout.OrderPlaced", sent_at__isnull=True).count() == 0

    own_redis.restart()  # SIGKILL and start again: the queued messages are gone
    assert own_redis.client().llen(celery_queue_key("erp")) == 0

    env = _worker_env(erp_simulator, CELERY_BROKER_URL=own_redis.url, OUTBOX_REDELIVER_SECONDS=1)
    worker = celery_worker(queues=QUEUES, env=env)
    with broker_at(own_redis.url):  # beat's tasks go to the worker's broker
        sweeper = Sweeper(every=2)
        sweeper.last = 0
        assert _wait(lambda: len(_received(erp_simulator, numbers)) == 4, sweeper=sweeper), worker.log()
        assert _wait(
            lambda: ErpHandover.objects.filter(order_number__in=numbers, status="delivered").count() == 4,
            sweeper=sweeper,
        ), worker.log()
        assert _wait(
            lambda: (
                not OutboxMessage.objects.filter(
                    event_type="checkout.OrderPlaced", handled_at__isnull=True
                ).exists()
            ),
            sweeper=sweeper,
        )
    assert all(order["deliveries"] == 1 for order in _received(erp_simulator, numbers))
    assert all(checkout_api.get_order(number=number).status == "handed_over" for number in numbers)
    assert all(
        row.redeliveries >= 1 for row in OutboxMessage.objects.filter(event_type="checkout.OrderPlaced")
    )


def test_an_order_canceled_before_its_hand_over_never_reaches_the_erp(erp_simulator, celery_worker):
    [(number, token)] = place_orders_with_tokens(1)  # no worker yet: the hand-over has not begun
    assert cancel_order(number, token).status_code == 200

    worker = celery_worker(queues=QUEUES, env=_worker_env(erp_simulator))
    sweeper = Sweeper(every=3)
    canceled = ErpHandover.objects.filter(order_number=number, status="canceled")
    assert _wait(canceled.exists, sweeper=sweeper), worker.log()

    time.sleep(2)  # room for a wrong delivery to show
    assert erp_simulator.orders() == []
    assert order_view(number, token)["status"] == "canceled"
    assert canceled.get().erp_reference == ""


def test_a_cancel_during_the_delivery_is_refused_and_the_order_handed_over(erp_simulator, celery_worker):
    worker = celery_worker(queues=QUEUES, env=_worker_env(erp_simulator))
    erp_simulator.control(latency_ms=3000)  # the request is still open when the customer cancels

    [(number, token)] = place_orders_with_tokens(1)
    in_flight = ErpHandover.objects.filter(order_number=number, status="in_flight")
    assert _wait(in_flight.exists), worker.log()

    response = cancel_order(number, token)

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "not_cancelable"
    delivered = ErpHandover.objects.filter(order_number=number, status="delivered")
    assert _wait(delivered.exists), worker.log()
    view = order_view(number, token)
    assert (view["status"], view["cancelable"]) == ("handed_over", False)
    assert [order["deliveries"] for order in _received(erp_simulator, {number})] == [1]
