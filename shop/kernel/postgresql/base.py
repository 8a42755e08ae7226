"""
Django's PostgreSQL backend, with a health check that costs no round trip.

A persistent connection (``CONN_MAX_AGE``) may have been ended by the server while it sat idle
between two requests or tasks: a restart, ``pg_terminate_backend``, ``idle_session_timeout``, a
proxy's idle timeout. ``CONN_HEALTH_CHECKS`` makes Django check it before its first use in a
request, with a ``SELECT 1``: a round trip on every request and every task, about a tenth of
what a shop request sends, spent on the one connection in many thousand that broke.

A server that ends a connection says so on it (an error message, then the end of the stream), so
an idle connection's socket that has anything to read has been ended, or at least has something
the shop did not ask for (a ``NOTIFY``: the shop does not ``LISTEN``). This backend's check polls
the socket without waiting: nothing to read, the connection is kept (about 2 microseconds);
anything to read, or a connection that is not idle, it is closed and the request opens a new one,
as Django does when ``SELECT 1`` fails. A connection that died silently (a network path gone,
no end of stream) passes both checks alike and fails on its first statement, as before.

It also gives the kernel's hot statements (``shop.kernel.db``) a cursor whose statements
PostgreSQL keeps prepared (``preparing_cursor``). Django's backend binds every value into the SQL
text on the client, so PostgreSQL parses and plans every statement again; for the hot paths' short
reads and writes planning costs more than running (the cart's quote of three SKUs: 0.30 ms to
plan, 0.03 ms to run). A statement run through ``preparing_cursor`` is bound on the server, and
once this connection has run it ``prepare_threshold`` times (psycopg's setting, from the
database's ``OPTIONS``; ``POSTGRES_PREPARED_STATEMENTS``, on by default) psycopg prepares it and
PostgreSQL plans it no more. psycopg keeps the last 100 a connection prepared (``prepared_max``).
Several statements given as a ``Batch`` go in one round trip (psycopg's pipeline mode), each of
them prepared in the same way.

``ENGINE = "shop.kernel.postgresql"`` (shop/settings/base.py, for every ``postgres://`` URL);
with ``METRICS_DATABASE`` on, it extends django-prometheus's wrapper of the same backend.
"""

import select
from collections.abc import Sequence

import psycopg
from django.conf import settings
from django.db.backends.postgresql.base import Cursor as ClientBindingCursor
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.postgresql.operations import DatabaseOperations
from psycopg.pq import TransactionStatus

if getattr(settings, "METRICS_DATABASE", False):
    from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as _Base
else:
    from django.db.backends.postgresql.base import DatabaseWrapper as _Base


class Batch(str):
    """
    Statements (``(sql, params)`` pairs) that a ``PreparingCursor`` sends in one round trip; as a
    string, their texts joined by ``;``, what the query log shows and execute wrappers see.
    """

    statements: Sequence[tuple[str, Sequence]]

    def __new__(cls, statements: Sequence[tuple[str, Sequence]]):
        batch = super().__new__(cls, "; ".join(sql for sql, _params in statements))
        batch.statements = statements
        return batch


class PreparingCursor(ServerBindingCursor):
    """
    Django's server-binding cursor, whose statements psycopg prepares by the connection's
    ``prepare_threshold``. ``execute`` of a ``Batch`` sends its statements in one pipeline, each
    on a cursor of its own, in order; ``fetchall``, ``rowcount``, ``description`` and ``nextset``
    then walk their results as for a text of several statements. A statement that fails aborts
    the rest and raises, as in such a text.
    """

    _batch: list[tuple[list, int, object]] | None = None

    def execute(self, query, params=None, **kwargs):
        if not isinstance(query, Batch):
            self._batch = None
            return super().execute(query, params, **kwargs)
        cursors = [psycopg.Cursor(self.connection) for _statement in query.statements]
        try:
            with self.connection.pipeline():
                for cursor, (sql, values) in zip(cursors, query.statements, strict=True):
                    cursor.execute(sql, values)
            self._batch = [_outcome(cursor) for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()
        return self

    def fetchall(self):
        if self._batch is None:
            return super().fetchall()
        rows = self._batch[0][0]
        self._batch[0] = ([], *self._batch[0][1:])
        return rows

    @property
    def rowcount(self):
        return super().rowcount if self._batch is None else self._batch[0][1]

    @property
    def description(self):
        return super().description if self._batch is None else self._batch[0][2]

    def nextset(self):
        if self._batch is None:
            return super().nextset()
        if len(self._batch) < 2:
            return None
        del self._batch[0]
        return True


def _outcome(cursor: psycopg.Cursor) -> tuple[list, int, object]:
    """A statement's rows (none for a write), row count and description (psycopg builds it anew each read)."""
    description = cursor.description
    return (cursor.fetchall() if description else [], cursor.rowcount, description)


class Operations(DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """
        What the query log shows: for a ``PreparingCursor``'s statement (or batch), the text the
        client would have sent with the values bound into it, as Django's logs show every other.
        """
        if isinstance(cursor, PreparingCursor):
            try:
                return self.compose_sql(sql, params)
            except psycopg.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(_Base):
    ops_class = Operations

    def preparing_cursor(self):
        """
        A cursor as ``cursor()`` gives (Django's wrapper: execute wrappers, query log, Django's
        errors) on a ``PreparingCursor``; ``cursor()`` itself where prepared statements are off
        (``prepare_threshold`` None) or the connection's cursors are instrumented (tracing,
        ``METRICS_DATABASE``), so that what instruments them sees every statement.
        """
        self.close_if_health_check_failed()
        self.ensure_connection()
        connection = self.connection
        if connection.prepare_threshold is None or connection.cursor_factory is not ClientBindingCursor:
            return self.cursor()
        with self.wrap_database_errors:
            return self._prepare_cursor(PreparingCursor(connection))

    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not idle_and_quiet(self.connection):
            self.close()
        self.health_check_done = True


def idle_and_quiet(connection) -> bool:
    """Whether a psycopg connection is open, idle, and has nothing from the server to read."""
    if connection.closed or connection.broken:
        return False
    if connection.info.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False
