"""
The shop's PostgreSQL backend (shop/kernel/postgresql/base.py): ``CONN_HEALTH_CHECKS`` without a
``SELECT 1`` on every request. A persistent connection is checked at the start of each request
(or task) by polling its socket: a quiet idle connection is kept with no statement sent, one the
server ended is replaced before the request's first statement.
"""

import time

import pytest
from django.db import connection, connections

from shop.kernel.postgresql.base import DatabaseWrapper, idle_and_quiet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def persistent():
    """A second connection to the test database, persistent and health-checked as in production."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = {**wrapper.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    yield wrapper
    wrapper.close()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_postgresql_urls_use_the_shop_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_quiet_idle_connection_is_kept_without_a_statement(persistent, monkeypatch):
    pid = backend_pid(persistent)
    checks = []
    monkeypatch.setattr(persistent, "is_usable", lambda: checks.append("SELECT 1") or True)

    for _ in range(3):  # three requests
        persistent.close_if_unusable_or_obsolete()  # what request_started does
        assert backend_pid(persistent) == pid

    assert checks == []  # Django's SELECT 1 was not sent


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(persistent):
    pid = backend_pid(persistent)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while idle_and_quiet(persistent.connection) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye travels on its own

    persistent.close_if_unusable_or_obsolete()  # the next request starts

    assert backend_pid(persistent) != pid  # a new connection, and no error


def test_a_connection_left_in_a_transaction_is_not_kept(persistent):
    pid = backend_pid(persistent)
    persistent.connection.execute("BEGIN")  # behind Django's back: not idle
    persistent.health_check_done = False

    persistent.close_if_health_check_failed()

    assert persistent.connection is None
    assert backend_pid(persistent) != pid
