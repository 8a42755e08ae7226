"""Fixtures of the project-level tests."""

import socket

import pytest


@pytest.fixture
def database_down(transactional_db):
    """
    PostgreSQL is unreachable during the test, as when it is stopped: the default connection
    points at a port where nothing listens. Real connections, no mock; restored afterwards. For
    tests marked ``postgres`` (an in-memory SQLite test database cannot be taken away).
    """
    from django.db import connection

    assert connection.vendor == "postgresql", "mark the test postgres"
    with socket.socket() as probe:  # a free port: nothing listens there once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
