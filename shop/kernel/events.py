"""
Events: the base class and publication through the outbox.

A context announces a fact by calling ``publish(SomethingHappened(...))`` inside the transaction
that makes it true. The event is written to the outbox table in that transaction, so a rollback
publishes nothing; the relay (``shop.kernel.outbox``) hands it to the subscribed Celery tasks
after commit, at least once. The subscribing side, ``event_handler`` and the inbox that makes
handlers idempotent, is ``shop.kernel.subscribers``.
"""

import dataclasses
import datetime
import functools
import json
import types
import typing
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from shop.kernel import handoff, logcontext, subscriptions, tracing
from shop.kernel.db import (
    Outcome,
    Statement,
    as_datetime_parameter,
    as_uuid_parameter,
    insert_statements,
    run_together,
)

_EVENT_TYPES: dict[str, type["Event"]] = {}
OUTBOX_COPY_MIN_EVENTS = 100  # publish_many writes this many events or more with COPY on PostgreSQL


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """
    Base class of every event: a frozen dataclass named in the past tense.

    Subclasses set ``event_type`` (``"<context>.<Name>"``, unique) and ``version`` (raise it when
    the payload changes incompatibly). Fields hold JSON-friendly stdlib values: str, int, bool,
    Decimal, UUID, datetime, None, and lists or dicts of those.
    """

    event_type: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if not event_type:
            raise TypeError(f"{cls.__name__} must set event_type.")
        taken = _EVENT_TYPES.get(event_type)
        if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(f"event_type {event_type!r} is already taken.")
        _EVENT_TYPES[event_type] = cls

    def to_payload(self) -> dict[str, Any]:
        """Return the event's fields as JSON-compatible data (Decimal, UUID, datetime as str)."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """
        Return the payload as JSON text, as the outbox stores it.

        Raises:
            TypeError: a field is not JSON-serialisable.
            ValueError: a float field is NaN or infinite, which JSON cannot carry.
        """
        return _ENCODER.encode({name: getattr(self, name) for name in _field_names(type(self))})

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> typing.Self:
        """Rebuild the event from its payload, restoring Decimal, UUID and datetime fields."""
        hints = typing.get_type_hints(cls)
        values = {}
        for field in dataclasses.fields(cls):
            if field.name in payload:
                values[field.name] = _restore(hints[field.name], payload[field.name])
        return cls(**values)


@functools.cache
def _field_names(cls: type[Event]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


class _PayloadEncoder(DjangoJSONEncoder):
    """
    DjangoJSONEncoder, but datetimes keep their microseconds (it cuts them to milliseconds), and
    a dataclass nested in a field is written as its fields.
    """

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        return super().default(o)


_ENCODER = _PayloadEncoder(allow_nan=False)


def _restore(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        non_none = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _restore(non_none[0], value) if len(non_none) == 1 else value
    if hint is Decimal:
        return Decimal(value)
    if hint is uuid.UUID:
        return uuid.UUID(value)
    if hint is datetime.datetime:
        return datetime.datetime.fromisoformat(value)
    if typing.get_origin(hint) in (list, tuple) and typing.get_args(hint):
        inner = typing.get_args(hint)[0]
        return typing.get_origin(hint)(_restore(inner, item) for item in value)
    if typing.get_origin(hint) is dict and len(typing.get_args(hint)) == 2:
        inner = typing.get_args(hint)[1]
        return {key: _restore(inner, item) for key, item in value.items()}
    return value


def publish(event: Event) -> None:
    """
    Write ``event`` to the outbox in the current transaction and relay it after commit (when a
    subscription wants it: see ``publish_many``).

    Raises:
        TypeError: if ``event`` is not an ``Event`` or its payload is not JSON-serialisable.
    """
    publish_many([event])


def publish_many(events: Iterable[Event], *, after: Sequence[Statement] = ()) -> list[Outcome]:
    """
    Write ``events`` to the outbox, in order, in the current transaction: one INSERT, or on
    PostgreSQL one ``COPY`` from ``OUTBOX_COPY_MIN_EVENTS`` events on (bulk changes such as a
    price import, where it is several times faster than an INSERT of the same rows).

    ``after``: the caller's writes that the events announce, run first and sent with the INSERT in
    one round trip on PostgreSQL (``shop.kernel.db.run_together``); their outcomes are returned,
    in order. Without events they run all the same.

    An event that no subscription wants (``shop.kernel.subscriptions.wanted``: an order's status
    change other than a cancellation, a stock change that flips no flag) is stored sent and
    handled, as the relay would mark it; a relay is asked for on commit only when one is wanted.

    Raises:
        TypeError: if one is not an ``Event`` or its payload is not JSON-serialisable (then none
            is written).
    """

    now = timezone.now()
    request_id = logcontext.REQUEST_ID.get() or ""
    origin = (request_id, tracing.traceparent())  # who published: each row keeps it for its subscribers
    rows = []
    for event in events:
        if not isinstance(event, Event):
            raise TypeError(f"Not an Event: {event!r}")
        try:
            payload = event.to_json()
        except (TypeError, ValueError) as exc:  # ValueError: NaN or infinity, which JSON cannot carry
            raise TypeError(f"{type(event).__name__} is not JSON-serialisable: {exc}") from exc
        rows.append(
            (event.event_type, event.version, payload, subscriptions.wanted(event.event_type, payload))
        )
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and len(rows) >= OUTBOX_COPY_MIN_EVENTS:
        outcomes = run_together(after) if after else []
        _copy_to_outbox(connection, rows, now, origin)
    else:
        statements = [*after, *_outbox_inserts(rows, now, origin)]
        outcomes = run_together(statements)[: len(after)] if statements else []
    if any(row[3] for row in rows):
        _relay_on_commit()
    return outcomes


#: (event type, version, payload as JSON text, whether a subscription wants it)
_Row = tuple[str, int, str, bool]


_OUTBOX_COLUMNS = (
    "event_id", "event_type", "version", "payload", "occurred_at",
    "attempts", "last_error", "redeliveries", "request_id", "trace_context", "sent_at", "handled_at",
)  # fmt: skip


def _outbox_inserts(rows: list[_Row], now: datetime.datetime, origin: tuple[str, str]) -> list[Statement]:
    """
    The INSERT of outbox rows (none for no rows), in SQL: every order's completion publishes, and
    building the statement with the ORM cost more than running it. The payload goes as the JSON
    text ``to_json`` made (PostgreSQL casts it to ``jsonb``; SQLite stores the text).
    """
    from shop.kernel.models import OutboxMessage

    occurred_at = as_datetime_parameter(now)
    return insert_statements(
        OutboxMessage._meta.db_table,
        _OUTBOX_COLUMNS,
        [
            (
                as_uuid_parameter(uuid.uuid4()),
                event_type,
                version,
                payload,
                occurred_at,
                0,
                "",
                0,
                *origin,
                *((None, None) if wanted else (occurred_at, occurred_at)),
            )
            for event_type, version, payload, wanted in rows
        ],
    )


def _copy_to_outbox(connection, rows: list[_Row], now: datetime.datetime, origin: tuple[str, str]) -> None:
    """
    Write outbox rows with PostgreSQL's ``COPY``: no statement to build, no parameter to quote.
    The rows get the ids of their order, as the INSERT would give them, so the relay keeps it.
    """
    from shop.kernel.models import OutboxMessage

    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    statement = f"COPY {table} ({', '.join(_OUTBOX_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for event_type, version, payload, wanted in rows:
            done = None if wanted else now
            copy.write_row((uuid.uuid4(), event_type, version, payload, now, 0, "", 0, *origin, done, done))


#: The relay's task (``shop.kernel.tasks.relay_outbox``), asked for on commit by name.
RELAY_TASK = "shop.kernel.relay_outbox"


def _relay_on_commit() -> None:
    """Trigger the relay when the transaction commits: once, however many events it published."""
    connection = transaction.get_connection()
    if not any(callback is _trigger_relay for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(_trigger_relay)


def _trigger_relay() -> None:
    """
    Ask a worker to relay the outbox in ``OUTBOX_RELAY_DELAY_SECONDS``; if the broker is down, the
    beat sweep will. One relay task asked for and not yet started serves every commit meanwhile
    (it relays every unsent row), so under load the delay gathers the events of many commits into
    one relay and one message for each subscriber (``shop.kernel.outbox``).
    """
    handoff.send_coalesced(
        RELAY_TASK,
        unsent="Could not trigger the outbox relay; the sweep will deliver.",
        seconds=settings.OUTBOX_RELAY_COALESCE_SECONDS,
        countdown=settings.OUTBOX_RELAY_DELAY_SECONDS,
    )
