"""
Database helpers: reads of hot paths written in SQL (``fetch``), and bulk paths (imports, syncs)
on PostgreSQL.

``fetch`` runs one portable read (PostgreSQL and SQLite) on Django's connection and returns its
rows. The hot paths' few fixed reads (a cart's quote, its stock) use it where building the query
with the ORM cost more Python time than the statement takes to run: each such read is a
selector with its SQL beside it, tested like the rest, and its values converted by the caller
(``as_decimal``, ``bool``: SQLite gives numbers and 0/1 where PostgreSQL gives ``Decimal`` and
booleans).

Django's psycopg backend binds parameters on the client: every value is quoted into the SQL text
in Python, and PostgreSQL parses and plans every statement anew. The statements of this module
(``fetch``, ``run``, ``run_together``) go instead through the shop's backend's
``preparing_cursor`` on PostgreSQL: bound on the server, and prepared once a connection has run
them a few times, so that PostgreSQL plans them no more (for the hot paths' short statements
planning cost more than running; ``POSTGRES_PREPARED_STATEMENTS``). A statement carrying
thousands of values (an import chunk's arrays) is slow to quote on the client as well:
``bound_cursor`` gives a cursor on Django's connection, in its current transaction, that sends
the values separately (server-side binding, arrays in binary form, never prepared);
``bulk_update`` writes fields of many rows with one such statement.

Each statement is a round trip, and on this kind of machine a round trip costs the web process
about 0.1 ms of CPU and PostgreSQL about as much, whatever the statement does. ``run_together``
sends several statements that do not depend on each other's results in one round trip on
PostgreSQL (they still run one after the other, in order, in the current transaction) and gives
each one's rows and row count; elsewhere it runs them one by one.
"""

import datetime
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import NamedTuple

import psycopg
from django.db import connection as default_connection
from django.db import transaction
from django.db.models import Model

from shop.kernel.postgresql.base import Batch, PreparingCursor


def _cursor():
    """
    A cursor on the default connection for the statements below: on PostgreSQL one whose
    statements PostgreSQL keeps prepared once they have run a few times on the connection
    (``shop.kernel.postgresql``'s ``preparing_cursor``), elsewhere Django's.
    """
    preparing = getattr(default_connection, "preparing_cursor", None)
    return preparing() if preparing is not None else default_connection.cursor()


def fetch(sql: str, params: Sequence = ()) -> list[tuple]:
    """The rows of one read on the default connection (``%s`` placeholders), in its transaction."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def run(sql: str, params: Sequence = ()) -> int:
    """Run one write on the default connection (``%s`` placeholders), in its transaction; rows changed."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@contextmanager
def joined_transaction() -> Iterator[None]:
    """
    Run the block (or the decorated function) in the caller's transaction if there is one, without
    a savepoint, else in a transaction of its own. For writes that raise their own errors before
    they write anything: the caller may catch such an error and go on, as after a savepoint's
    rollback, and saves the SAVEPOINT and RELEASE round trips. A database error inside fails the
    caller's transaction (PostgreSQL refuses its next statement), and any exception that leaves
    the caller's ``atomic`` rolls it back, the block's writes with it.
    """
    if default_connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        yield


class Statement(NamedTuple):
    """One SQL statement (``%s`` placeholders) and its parameters."""

    sql: str
    params: Sequence = ()


class Outcome(NamedTuple):
    """What a statement of ``run_together`` gave: its rows (none for a write) and rows changed."""

    rows: list[tuple]
    rowcount: int


def run_together(statements: Sequence[Statement]) -> list[Outcome]:
    """
    Run ``statements`` in order on the default connection, in its transaction, and return each
    one's ``Outcome``. On PostgreSQL they travel in one round trip: in one pipeline, each
    statement bound on the server and prepared as ``fetch``'s are (``shop.kernel.postgresql``),
    or, where prepared statements are off, as one text with the values bound on the client, as
    every statement of Django's backend. On SQLite, whose driver runs one statement at a time, one
    by one. For the hot paths' fixed sequences of writes, and of reads whose parameters do not
    depend on each other. A statement that fails stops the rest; the error is Django's, as
    ``run``'s is. Every ``sql`` must hold no ``;`` of its own. Query logs count them once.
    """
    outcomes = []
    with _cursor() as cursor:
        if default_connection.vendor != "postgresql" or len(statements) < 2:
            for sql, params in statements:
                cursor.execute(sql, params)
                outcomes.append(Outcome(cursor.fetchall() if cursor.description else [], cursor.rowcount))
            return outcomes
        params = [value for statement in statements for value in statement.params]
        if isinstance(cursor.cursor, PreparingCursor):
            cursor.execute(Batch([(statement.sql, statement.params) for statement in statements]), params)
        else:
            cursor.execute("; ".join(statement.sql for statement in statements), params)
        while True:
            outcomes.append(Outcome(cursor.fetchall() if cursor.description else [], cursor.rowcount))
            if not cursor.nextset():
                return outcomes


#: The most parameters one statement of ``insert_statements``/``update_statements`` carries: below SQLite's
#: limit (32,766), so that a big chunk is split into several statements instead of refused.
MAX_PARAMETERS = 30_000


def _batches(rows: Sequence[Sequence], width: int) -> Iterator[Sequence[Sequence]]:
    size = max(MAX_PARAMETERS // width, 1)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_statements(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> list[Statement]:
    """
    The multi-row INSERTs of ``rows`` (values in the order of ``columns``, already prepared for
    the connection: see ``as_uuid_parameter``, ``as_datetime_parameter``) into ``table``: one
    (more only past ``MAX_PARAMETERS``), none for no rows. For the hot paths' writes, where
    building them with the ORM's ``bulk_create`` cost more than running them. No signals, no
    defaults: every column without a database default must be given.
    """
    row = f"({placeholders(len(columns))})"
    return [
        Statement(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * len(batch))}",  # noqa: S608
            [value for values in batch for value in values],
        )
        for batch in _batches(rows, len(columns))
    ]


def update_statements(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> list[Statement]:
    """
    The UPDATEs that set ``columns`` of rows of ``table`` by their ``id``: each of ``rows`` is
    ``(id, *values)``. One ``UPDATE … FROM (VALUES …)`` (more only past ``MAX_PARAMETERS``), on
    PostgreSQL and SQLite.
    """
    assignments = ", ".join(f"{column} = v.column{index}" for index, column in enumerate(columns, start=2))
    row = f"({placeholders(len(columns) + 1)})"
    return [
        Statement(
            f"UPDATE {table} SET {assignments} "  # noqa: S608 - callers pass their models' names
            f"FROM (VALUES {', '.join([row] * len(batch))}) AS v WHERE {table}.id = v.column1",
            [value for values in batch for value in values],
        )
        for batch in _batches(rows, len(columns) + 1)
    ]


def update_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Run ``update_statements``: set ``columns`` of rows of ``table`` by their ``id``."""
    for statement in update_statements(table, columns, rows):
        run(*statement)


def insert_unless_conflict(obj: Model) -> bool:
    """
    Insert ``obj`` (a new instance) with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` its
    primary key, and set it: True if the row went in, False if it met a unique constraint (then
    nothing was written). No savepoint is needed to go on after a conflict, as it is after the
    ``IntegrityError`` of ``save()``. Fields are prepared as ``save()`` prepares them
    (``auto_now_add`` included); no signals, no validation.
    """
    meta = obj._meta
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not (field.primary_key and field.db_returning)]
    values = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    rows = fetch(
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"VALUES ({placeholders(len(fields))}) ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}",
        values,
    )
    if not rows:
        return False
    obj.pk = meta.pk.to_python(rows[0][0])  # SQLite gives a UUID key as hex
    obj._state.adding = False
    return True


def placeholders(count: int) -> str:
    """``%s, %s, …`` for an ``IN (…)`` of ``count`` values."""
    return ", ".join(["%s"] * count)


def as_decimal(value) -> Decimal | None:
    """A numeric column's value as ``Decimal`` (SQLite returns an int or a float), None as None."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def as_datetime_parameter(value):
    """A datetime as the default connection takes it in a parameter (naive UTC on SQLite)."""
    return default_connection.ops.adapt_datetimefield_value(value)


def as_datetime(value) -> datetime.datetime | None:
    """A datetime column's value as an aware datetime (SQLite gives naive UTC, or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def as_uuid_parameter(value: uuid.UUID | str | None):
    """A UUID (or its text) as the default connection takes it in a parameter (32 hex digits on SQLite)."""
    if value is None:
        return None
    if not isinstance(value, uuid.UUID):
        value = uuid.UUID(str(value))
    return value if default_connection.features.has_native_uuid_field else value.hex


def as_uuid(value) -> uuid.UUID | None:
    """A UUID column's value as ``uuid.UUID`` (SQLite gives its 32 hex digits)."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


class _LoggedCursor(psycopg.Cursor):
    """A server-binding cursor whose statements go to Django's query log when it is on."""

    def __init__(self, connection, django_connection):
        super().__init__(connection)
        self._django_connection = django_connection

    def execute(self, query, params=None, **kwargs):
        kwargs.setdefault("prepare", False)  # no prepared statements: safe behind a transaction pooler
        started = time.monotonic()
        try:
            return super().execute(query, params, **kwargs)
        finally:
            if self._django_connection.queries_logged:  # DEBUG, or CaptureQueriesContext in a test
                self._django_connection.queries_log.append(
                    {"sql": f"{query} -- bound on the server", "time": f"{time.monotonic() - started:.3f}"}
                )


@contextmanager
def bound_cursor(using: str | None = None) -> Iterator[psycopg.Cursor]:
    """
    A psycopg cursor with server-side binding on Django's PostgreSQL connection (``using``, the
    default database unless given), in its current transaction; database errors come out as
    Django's (``django.db.IntegrityError`` and so on), and its statements are counted in Django's
    query log like any other (``connection.queries``, ``CaptureQueriesContext``).

    Raises:
        RuntimeError: the connection is not PostgreSQL.
    """
    connection = transaction.get_connection(using)
    if connection.vendor != "postgresql":
        raise RuntimeError("bound_cursor needs PostgreSQL.")
    connection.ensure_connection()
    with connection.wrap_database_errors, _LoggedCursor(connection.connection, connection) as cursor:
        yield cursor


def bulk_update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """
    Write ``fields`` of ``objs`` (instances of one model, saved before) with one UPDATE. On
    PostgreSQL the values travel as one array per field (``unnest``), bound on the server;
    Django's ``bulk_update`` builds a ``CASE`` with a condition per row instead, whose cost in
    Python grows with the square of the batch (1,000 rows: about a second). Elsewhere it is
    Django's ``bulk_update``. Like it: no signals, no ``auto_now``, no validation.
    """
    if not objs:
        return
    model = type(objs[0])
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    columns = [model._meta.get_field(name) for name in fields]
    arrays = [[pk.get_db_prep_value(obj.pk, connection) for obj in objs]]
    arrays += [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs] for field in columns
    ]
    names = ["pk", *(f"v{index}" for index in range(len(columns)))]
    types = [pk.rel_db_type(connection), *(field.db_type(connection) for field in columns)]
    unnest = ", ".join(f"%s::{db_type}[]" for db_type in types)
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}" for field, name in zip(columns, names[1:], strict=True)
    )
    statement = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "  # noqa: S608 - model metadata
        f"FROM unnest({unnest}) AS v({', '.join(names)}) WHERE t.{quote(pk.column)} = v.pk"
    )
    with bound_cursor() as cursor:
        cursor.execute(statement, arrays)
