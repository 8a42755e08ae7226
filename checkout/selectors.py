"""Checkout's reads: a checkout for whoever may see it, and orders (pricing is ``checkout.pricing``)."""

from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    JSONField,
    Prefetch,
    Q,
    QuerySet,
    UUIDField,
    Value,
    When,
)

from checkout.models import Checkout, Order, OrderLine
from shop.kernel.db import as_datetime, as_uuid, as_uuid_parameter, fetch

_CHECKOUT_FIELDS = Checkout._meta.concrete_fields
_CHECKOUT_COLUMNS = ", ".join(field.column for field in _CHECKOUT_FIELDS)
_CHECKOUT_ATTNAMES = [field.attname for field in _CHECKOUT_FIELDS]


def checkout_by_id(checkout_id, *, lock: bool = False) -> Checkout | None:
    """
    The checkout ``checkout_id`` (a UUID), locked ``FOR UPDATE`` with ``lock`` (inside a
    transaction). One statement written in SQL, its row made a model instance as the ORM makes
    it (``_checkout_from_row``): every checkout request reads it, and building it with the ORM (or
    a raw queryset) cost more than running it.
    """
    suffix = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    rows = fetch(
        f"SELECT {_CHECKOUT_COLUMNS} FROM {Checkout._meta.db_table} WHERE id = %s{suffix}",  # noqa: S608
        [as_uuid_parameter(checkout_id)],
    )
    return _checkout_from_row(rows[0]) if rows else None


def _checkout_from_row(row) -> Checkout:
    """
    A checkout from a row of every concrete field's column, in the model's order, with the
    values the ORM would give (JSON decoded; on SQLite the UUIDs from hex, the times from text).
    """
    values = []
    for field, value in zip(_CHECKOUT_FIELDS, row, strict=True):
        if isinstance(field, JSONField):
            value = field.from_db_value(value, None, connection)
        elif isinstance(field, UUIDField):
            value = as_uuid(value)
        elif isinstance(field, DateTimeField):
            value = as_datetime(value)
        values.append(value)
    return Checkout.from_db(DEFAULT_DB_ALIAS, _CHECKOUT_ATTNAMES, values)


def open_checkouts_of(cart_token) -> list[Checkout]:
    """
    The open checkouts of the cart ``cart_token``, locked ``FOR UPDATE`` (inside a transaction).
    Every checkout create asks, and nearly always finds none: that is one statement written in
    SQL (their ids); the checkouts found are read after it, already locked.
    """
    suffix = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = fetch(
        f"SELECT id FROM {Checkout._meta.db_table} WHERE cart_token = %s AND status = %s{suffix}",  # noqa: S608
        [as_uuid_parameter(cart_token), Checkout.Status.OPEN],
    )
    if not found:
        return []
    return list(Checkout.objects.filter(pk__in=[row[0] for row in found]).order_by())


def checkout_for(checkout_id, customer_id: int | None, *, lock: bool = False) -> Checkout | None:
    """
    The checkout if this customer (or a guest, for a guest checkout) may see it; locked ``FOR
    UPDATE`` with ``lock`` (a checkout someone else may not see is locked all the same, until
    the caller's transaction ends, and not returned).
    """
    checkout = checkout_by_id(checkout_id, lock=lock)
    if checkout is None or (checkout.customer_id is not None and checkout.customer_id != customer_id):
        return None
    return checkout


def orders_of(customer_id: int) -> QuerySet:
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_for(number: str, *, customer_id: int | None, token_digest: str | None) -> Order | None:
    """The order if it belongs to this customer or the access token matches, else None."""
    access = Q(pk__in=[])
    if customer_id is not None:
        access |= Q(customer_id=customer_id)
    if token_digest:
        access |= Q(access_token_digest=token_digest)
    return Order.objects.filter(access, number=number).prefetch_related("lines").first()


def order_by_number(number: str, *, lock: bool = False) -> Order | None:
    """
    The order ``number``, locked ``FOR UPDATE`` with ``lock`` (inside a transaction). One
    statement in SQL: every order's hand-over reads it, and building it with the ORM cost more
    than running it.
    """
    suffix = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    sql = f"SELECT * FROM {Order._meta.db_table} WHERE number = %s{suffix}"  # noqa: S608 - the model's table
    return next(iter(Order.objects.raw(sql, [number])), None)


def orders_by_status_since(since: datetime) -> dict[str, int]:
    """Orders created at or after ``since``, counted by their status now."""
    rows = Order.objects.filter(created_at__gte=since).values_list("status").annotate(count=Count("id"))
    return dict(rows.values_list("status", "count"))


def checkouts_by_outcome_since(since: datetime, now: datetime) -> dict[str, int]:
    """Checkouts created at or after ``since`` by outcome (``CheckoutActivity``); one query."""
    outcome = Case(
        When(status=Checkout.Status.OPEN, expires_at__lte=now, then=Value("expired")),
        default=F("status"),
    )
    rows = (
        Checkout.objects.filter(created_at__gte=since)
        .annotate(outcome=outcome)
        .values_list("outcome")
        .annotate(count=Count("id"))
    )
    return dict(rows.values_list("outcome", "count"))
