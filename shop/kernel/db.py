"""
Database helpers for bulk paths (imports, syncs) on PostgreSQL.

Django's psycopg backend binds parameters on the client: every value is quoted into the SQL text
in Python. That is right for the many small statements of a request, and slow for a statement
that carries thousands of values (an import chunk's arrays): quoting them costs more than running
the statement. ``bound_cursor`` gives a cursor on Django's connection, in its current
transaction, that sends the values separately (server-side binding, arrays in binary form).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import transaction


@contextmanager
def bound_cursor(using: str | None = None) -> Iterator[psycopg.Cursor]:
    """
    A psycopg cursor with server-side binding on Django's PostgreSQL connection (``using``, the
    default database unless given), in its current transaction; database errors come out as
    Django's (``django.db.IntegrityError`` and so on). Statements it runs are not in Django's
    query log (``connection.queries``, ``CaptureQueriesContext``).

    Raises:
        RuntimeError: the connection is not PostgreSQL.
    """
    connection = transaction.get_connection(using)
    if connection.vendor != "postgresql":
        raise RuntimeError("bound_cursor needs PostgreSQL.")
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor
