"""
Publishing through the outbox, the payload round trip, and idempotent consumption (the inbox).

These tests need no broker: publishing only writes the outbox row and registers the relay
trigger for the commit, which the test transaction never reaches (the callbacks are captured).
"""

import dataclasses
import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from catalog.events import PriceChanged, ProductChanged
from catalog.models import Category, Product
from catalog.services import category_create, price_set, product_create, variant_create
from shop.kernel import events, outbox, subscriptions
from shop.kernel.events import Event, publish
from shop.kernel.models import OutboxMessage, ProcessedEvent
from shop.kernel.subscribers import consume_once
from tests.kernel.subscriber_tasks import CONSUMER, OutboxProbe, record_probe

pytestmark = pytest.mark.django_db


@dataclasses.dataclass(frozen=True, kw_only=True)
class LooseEvent(Event):
    """A test event whose field accepts anything, to try payloads that JSON cannot carry."""

    event_type = "tests.kernel.LooseEvent"

    value: Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class RichEvent(Event):
    """A test event with every kind of field an event may hold."""

    event_type = "tests.kernel.RichEvent"

    order_id: uuid.UUID
    placed_at: datetime.datetime
    paid_at: datetime.datetime | None
    lines: list[uuid.UUID]
    totals: dict[str, Decimal]
    note: str | None = None


class Abort(Exception):
    pass


def relay_triggers(callbacks) -> int:
    """How many of the captured on-commit callbacks would trigger the outbox relay."""
    return sum(1 for callback in callbacks if callback is events._trigger_relay)


def published_envelope(event: Event) -> dict:
    """Publish ``event`` and return the envelope the relay would hand to its subscribers."""
    with transaction.atomic():
        publish(event)
    return OutboxMessage.objects.latest("id").envelope()


@pytest.fixture
def subscribed(monkeypatch):
    """``subscribed(EventClass, ...)``: for the test, a subscription (a task never run) wants these."""

    def subscribe(*event_classes: type[Event]) -> None:
        for event_cls in event_classes:
            monkeypatch.setitem(
                subscriptions._SUBSCRIPTIONS, event_cls.event_type, {"tests.kernel.never_run": None}
            )

    return subscribe


@pytest.fixture
def variant():
    category = category_create(name="Tools", slug="tools")
    product = product_create(name="Hammer", slug="hammer", category=category)
    return variant_create(product=product, sku="HAM-1", name="Hammer, 500 g")


# --- publish: in the transaction of the change ---------------------------------------------


def test_a_rolled_back_transaction_publishes_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Abort), transaction.atomic():
        category = category_create(name="Tools", slug="tools")
        product = product_create(name="Hammer", slug="hammer", category=category)
        variant = variant_create(product=product, sku="HAM-1", name="Hammer")
        price_set(variant=variant, currency="EUR", amount=Decimal("12.50"))
        # The events are in the outbox, in the transaction that is about to fail...
        assert OutboxMessage.objects.count() == 3
        raise Abort

    # ...and they go with it: no row, and no relay asked for.
    assert not OutboxMessage.objects.exists()
    assert not Product.objects.exists()
    assert relay_triggers(callbacks) == 0


def test_a_rolled_back_savepoint_takes_only_its_own_events(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        publish(OutboxProbe(label="kept"))
        with pytest.raises(Abort), transaction.atomic():
            publish(OutboxProbe(label="rolled back"))
            raise Abort

    assert list(OutboxMessage.objects.values_list("payload__label", flat=True)) == ["kept"]
    assert relay_triggers(callbacks) == 1


def test_a_committed_change_writes_exactly_one_outbox_row(variant, django_capture_on_commit_callbacks):
    before = set(OutboxMessage.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks() as callbacks:
        price_set(variant=variant, currency="EUR", amount=Decimal("12.50"))

    rows = list(OutboxMessage.objects.exclude(pk__in=before))
    assert len(rows) == 1
    row = rows[0]
    row.refresh_from_db()  # what the database holds, not what was handed to it
    assert row.event_type == "catalog.PriceChanged"
    assert row.version == PriceChanged.version == 1
    assert row.payload == {"sku": "HAM-1", "currency": "EUR", "amount": "12.50", "previous_amount": None}
    assert row.attempts == 0
    assert row.event_id is not None
    # No subscription wants a price change: the row is stored sent and handled, as the relay
    # would mark it, and no relay is asked for (nor was one by the fixture's product events).
    assert row.sent_at == row.handled_at == row.occurred_at
    assert relay_triggers(callbacks) == 0
    assert relay_triggers(callback for _, callback, _ in connection.run_on_commit) == 0

    envelope = row.envelope()
    assert envelope["id"] == str(row.event_id)
    assert envelope["type"] == "catalog.PriceChanged"
    assert envelope["version"] == 1
    assert envelope["payload"] == row.payload


def test_a_changed_price_publishes_the_previous_amount(variant):
    price_set(variant=variant, currency="EUR", amount=Decimal("12.50"))
    price_set(variant=variant, currency="EUR", amount=Decimal("9.99"))

    last = OutboxMessage.objects.filter(event_type="catalog.PriceChanged").latest("id")
    assert last.payload == {"sku": "HAM-1", "currency": "EUR", "amount": "9.99", "previous_amount": "12.50"}


def test_several_events_in_one_transaction_trigger_one_relay(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        publish(OutboxProbe(label="first"))
        category = category_create(name="Tools", slug="tools")
        publish(OutboxProbe(label="second"))
        product_create(name="Hammer", slug="hammer", category=category)

    rows = OutboxMessage.objects.order_by("id")
    assert [(row.event_type, row.sent_at is None) for row in rows] == [
        ("tests.kernel.OutboxProbe", True),
        ("tests.kernel.OutboxProbe", True),
        ("catalog.ProductChanged", False),  # nobody's: stored handled
    ]
    assert relay_triggers(callbacks) == 1


def test_events_no_subscription_wants_are_stored_handled_and_ask_no_relay(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        category = category_create(name="Tools", slug="tools")
        product = product_create(name="Hammer", slug="hammer", category=category)
        variant = variant_create(product=product, sku="HAM-1", name="Hammer")
        price_set(variant=variant, currency="EUR", amount=Decimal("12.50"))

    rows = list(OutboxMessage.objects.order_by("id"))
    assert [(row.event_type, row.payload.get("change")) for row in rows] == [
        ("catalog.ProductChanged", "created"),
        ("catalog.ProductChanged", "updated"),
        ("catalog.PriceChanged", None),
    ]
    assert all(row.sent_at == row.handled_at == row.occurred_at for row in rows)
    assert relay_triggers(callbacks) == 0
    assert outbox.relay() == 0  # nothing left for it


@pytest.mark.parametrize("wanted", [True, False], ids=["wanted", "nobody's"])
@pytest.mark.parametrize(
    "count",
    [events.OUTBOX_COPY_MIN_EVENTS - 1, events.OUTBOX_COPY_MIN_EVENTS, 1500],
    ids=["insert", "copy-threshold", "copy-1500"],
)
def test_publish_many_writes_every_event_in_order_with_one_relay(
    count, wanted, subscribed, django_capture_on_commit_callbacks
):
    """
    On PostgreSQL from the threshold on the rows are written by COPY; the result is the same.
    Events nobody wants are written sent and handled, and ask for no relay.
    """
    if wanted:
        subscribed(RichEvent)
    batch = [
        RichEvent(
            order_id=uuid.uuid4(),
            placed_at=datetime.datetime(2025, 3, 4, 5, 6, 7, number, tzinfo=datetime.UTC),
            paid_at=None,
            lines=[uuid.uuid4()],
            totals={"EUR": Decimal(f"{number}.50")},
            note='quote " backslash \\ tab \t newline \n ü' if number % 2 else None,
        )
        for number in range(count)
    ]

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        events.publish_many(iter(batch))

    rows = list(OutboxMessage.objects.order_by("id"))
    assert [RichEvent.from_payload(row.envelope()["payload"]) for row in rows] == batch
    assert {(row.event_type, row.version, row.attempts, row.last_error) for row in rows} == {
        ("tests.kernel.RichEvent", 1, 0, "")
    }
    assert len({row.event_id for row in rows}) == count
    assert len({row.occurred_at for row in rows}) == 1
    done = None if wanted else rows[0].occurred_at
    assert {(row.sent_at, row.handled_at) for row in rows} == {(done, done)}
    assert relay_triggers(callbacks) == (1 if wanted else 0)


def test_events_copied_in_a_rolled_back_savepoint_are_gone(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(), transaction.atomic():
        publish(ProductChanged(product_id=1, slug="kept", change="updated"))
        with pytest.raises(Abort), transaction.atomic():
            events.publish_many(
                ProductChanged(product_id=number, slug=f"gone-{number}", change="updated")
                for number in range(events.OUTBOX_COPY_MIN_EVENTS * 2)
            )
            raise Abort

    assert list(OutboxMessage.objects.values_list("payload__slug", flat=True)) == ["kept"]


def test_a_bad_event_in_a_large_batch_writes_none_of_it():
    batch = [LooseEvent(value=number) for number in range(events.OUTBOX_COPY_MIN_EVENTS * 2)]
    batch.insert(150, LooseEvent(value=float("nan")))

    with transaction.atomic(), pytest.raises(TypeError, match="not JSON-serialisable"):
        events.publish_many(batch)

    assert not OutboxMessage.objects.exists()


def test_a_dataclass_in_a_field_travels_as_its_fields():
    @dataclasses.dataclass(frozen=True)
    class Line:
        sku: str
        quantity: int

    assert LooseEvent(value=[Line("HAM-1", 2)]).to_payload() == {"value": [{"sku": "HAM-1", "quantity": 2}]}


# --- publish: what it refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    "not_an_event",
    [
        {"type": "catalog.PriceChanged", "payload": {}},
        "catalog.PriceChanged",
        None,
    ],
    ids=["dict", "str", "None"],
)
def test_publish_refuses_what_is_not_an_event(not_an_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(TypeError, match="Not an Event"):
        publish(not_an_event)

    assert not OutboxMessage.objects.exists()
    assert relay_triggers(callbacks) == 0


@pytest.mark.parametrize(
    "value",
    [{1, 2}, object(), b"bytes", float("nan"), [Decimal("1"), float("inf")]],
    ids=["set", "object", "bytes", "nan", "infinity-in-list"],
)
def test_publish_refuses_a_payload_json_cannot_carry(value, subscribed, django_capture_on_commit_callbacks):
    subscribed(LooseEvent)
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with pytest.raises(TypeError, match="not JSON-serialisable"):
            publish(LooseEvent(value=value))
        # The transaction is still usable: the refusal happened before any SQL.
        publish(LooseEvent(value="fine"))

    assert list(OutboxMessage.objects.values_list("payload", flat=True)) == [{"value": "fine"}]
    assert relay_triggers(callbacks) == 1


# --- the payload round trip -----------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        PriceChanged(sku="HAM-1", currency="EUR", amount=Decimal("12.50"), previous_amount=None),
        PriceChanged(sku="HAM-1", currency="EUR", amount=None, previous_amount=Decimal("0.10")),
        PriceChanged(
            sku="HAM-1", currency="CHF", amount=Decimal("1234567890.00"), previous_amount=Decimal("7")
        ),
    ],
    ids=["amount-set", "amount-removed", "large"],
)
def test_price_changed_survives_the_outbox_round_trip(event):
    payload = event.to_payload()
    for name in ("amount", "previous_amount"):
        original = getattr(event, name)
        assert payload[name] == (None if original is None else str(original))  # a string, not a float

    envelope = published_envelope(event)  # through the database and back
    restored = PriceChanged.from_payload(envelope["payload"])

    assert restored == event
    for name in ("amount", "previous_amount"):
        original, value = getattr(event, name), getattr(restored, name)
        if original is None:
            assert value is None
        else:
            assert type(value) is Decimal
            assert value.as_tuple() == original.as_tuple()  # 12.50 stays 12.50, not 12.5


def test_from_payload_fills_fields_missing_from_an_older_payload():
    restored = PriceChanged.from_payload({"sku": "HAM-1", "currency": "EUR", "amount": "3.00"})

    assert restored == PriceChanged(sku="HAM-1", currency="EUR", amount=Decimal("3.00"), previous_amount=None)


def test_uuid_datetime_list_and_dict_fields_survive_the_round_trip():
    event = RichEvent(
        order_id=uuid.uuid4(),
        placed_at=datetime.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.UTC),
        paid_at=None,
        lines=[uuid.uuid4(), uuid.uuid4()],
        totals={"EUR": Decimal("10.00"), "CHF": Decimal("9.50")},
    )

    restored = RichEvent.from_payload(published_envelope(event)["payload"])

    assert restored == event  # to the microsecond
    assert type(restored.order_id) is uuid.UUID
    assert all(type(line) is uuid.UUID for line in restored.lines)
    assert all(type(total) is Decimal for total in restored.totals.values())


def test_product_changed_round_trip_keeps_its_list():
    event = ProductChanged(product_id=7, slug="hammer", change="updated", skus=["HAM-1", "HAM-2"])

    assert ProductChanged.from_payload(published_envelope(event)["payload"]) == event


# --- consumption: at most once per event and consumer ----------------------------------------


def test_the_same_envelope_handled_twice_runs_the_handler_once(handled_probes):
    event = OutboxProbe(label="once", amount=Decimal("2.50"), tags=["a"])
    envelope = published_envelope(event)

    assert record_probe(envelope) is True  # the Celery task, run in-process
    assert record_probe(envelope) is False  # redelivered: acknowledged without effect

    assert handled_probes == [event]
    assert ProcessedEvent.objects.filter(event_id=envelope["id"], consumer=CONSUMER).count() == 1


def test_the_inbox_is_per_event_and_per_consumer(handled_probes):
    first = published_envelope(OutboxProbe(label="first"))
    second = published_envelope(OutboxProbe(label="second"))
    other_consumer_runs = []

    assert record_probe(first) is True
    assert record_probe(second) is True
    assert consume_once(
        consumer="tests.kernel.other_consumer",
        envelope=first,
        handler=other_consumer_runs.append,
        event_cls=OutboxProbe,
    )

    assert [event.label for event in handled_probes] == ["first", "second"]
    assert [event.label for event in other_consumer_runs] == ["first"]
    assert ProcessedEvent.objects.count() == 3


def test_a_handler_that_raises_leaves_no_inbox_row_so_a_retry_runs_it():
    envelope = published_envelope(OutboxProbe(label="flaky"))
    consumer = "tests.kernel.flaky_consumer"
    calls = []

    def flaky_handler(event: OutboxProbe) -> None:
        calls.append(event)
        category_create(name=f"Written by attempt {len(calls)}", slug=f"attempt-{len(calls)}")
        if len(calls) == 1:
            raise ConnectionError("the downstream system hiccuped")

    def consume() -> bool:
        return consume_once(
            consumer=consumer, envelope=envelope, handler=flaky_handler, event_cls=OutboxProbe
        )

    with pytest.raises(ConnectionError):
        consume()
    # Neither the inbox row nor the handler's own write survived the failure.
    assert not ProcessedEvent.objects.filter(event_id=envelope["id"], consumer=consumer).exists()
    assert not Category.objects.exists()

    assert consume() is True  # the retry runs the handler again
    assert consume() is False  # and after its success, a redelivery does not

    assert len(calls) == 2
    assert ProcessedEvent.objects.filter(event_id=envelope["id"], consumer=consumer).count() == 1
    assert list(Category.objects.values_list("slug", flat=True)) == ["attempt-2"]


def test_a_consumer_refuses_an_event_of_another_type(handled_probes):
    envelope = published_envelope(PriceChanged(sku="HAM-1", currency="EUR", amount=Decimal("1.00")))

    with pytest.raises(ValueError, match=r"expects tests\.kernel\.OutboxProbe"):
        record_probe(envelope)

    assert handled_probes == []
    assert not ProcessedEvent.objects.exists()


def test_publish_many_sends_the_callers_writes_first_with_the_events_in_one_round_trip():
    from django.test.utils import CaptureQueriesContext

    from shop.kernel.db import Statement

    table = ProcessedEvent._meta.db_table
    write = Statement(
        f"INSERT INTO {table} (event_id, consumer, processed_at) VALUES (%s, %s, %s)",  # noqa: S608
        [uuid.uuid4().hex, "announced", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)],
    )

    with CaptureQueriesContext(connection) as queries:
        outcomes = events.publish_many([OutboxProbe(label="after the write")], after=[write])

    assert [outcome.rowcount for outcome in outcomes] == [1]  # the caller's write, not the outbox's
    assert ProcessedEvent.objects.filter(consumer="announced").exists()
    assert OutboxMessage.objects.filter(event_type=OutboxProbe.event_type).count() == 1
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)


def test_publish_many_without_events_still_runs_the_callers_writes():
    from shop.kernel.db import Statement

    table = ProcessedEvent._meta.db_table
    write = Statement(f"DELETE FROM {table} WHERE consumer = %s", ["gone"])  # noqa: S608
    ProcessedEvent.objects.create(event_id=uuid.uuid4(), consumer="gone")

    assert [outcome.rowcount for outcome in events.publish_many([], after=[write])] == [1]
    assert not ProcessedEvent.objects.filter(consumer="gone").exists()
    assert not OutboxMessage.objects.exists()
