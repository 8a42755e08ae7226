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

``ENGINE = "shop.kernel.postgresql"`` (shop/settings/base.py, for every ``postgres://`` URL);
with ``METRICS_DATABASE`` on, it extends django-prometheus's wrapper of the same backend.
"""

import select

from django.conf import settings
from psycopg.pq import TransactionStatus

if getattr(settings, "METRICS_DATABASE", False):
    from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as _Base
else:
    from django.db.backends.postgresql.base import DatabaseWrapper as _Base


class DatabaseWrapper(_Base):
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
