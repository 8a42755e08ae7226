"""
The hot paths' statements (``shop.kernel.db``) kept prepared on PostgreSQL
(``shop.kernel.postgresql``'s ``preparing_cursor``, ``POSTGRES_PREPARED_STATEMENTS``): bound on
the server, prepared once a connection has run them ``prepare_threshold`` times, the same answers
and the same query log as Django's cursor gives; Django's cursor where they are off or where
something instruments the connection's cursors.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.backends.postgresql.base import Cursor as ClientBindingCursor
from django.test.utils import CaptureQueriesContext

from shop.kernel import db
from shop.kernel.models import ProcessedEvent
from shop.kernel.postgresql.base import PreparingCursor

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TABLE = ProcessedEvent._meta.db_table
READ = f"SELECT consumer, count(*) FROM {TABLE} WHERE consumer = %s GROUP BY consumer"  # noqa: S608


def _prepared() -> list[str]:
    """The statements this connection holds prepared (PostgreSQL's own view of them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _event(number: int, consumer: str) -> db.Statement:
    return db.Statement(
        f"INSERT INTO {TABLE} (event_id, consumer, processed_at) VALUES (%s, %s, now())",  # noqa: S608
        [f"00000000-0000-0000-0000-{number:012d}", consumer],
    )


def test_the_settings_turn_them_on_with_psycopgs_threshold():
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 5
    connection.ensure_connection()
    assert connection.connection.prepare_threshold == 5


def test_a_read_run_often_is_prepared_and_answers_as_before():
    ProcessedEvent.objects.create(event_id="00000000-0000-0000-0000-000000000001", consumer="often")
    threshold = connection.connection.prepare_threshold if connection.connection else 5

    answers = [db.fetch(READ, ["often"]) for _ in range(threshold + 2)]

    assert answers == [[("often", 1)]] * (threshold + 2)
    assert [sql for sql in _prepared() if "GROUP BY consumer" in sql]
    # Django's own statements are bound on the client and never prepared.
    assert not [sql for sql in _prepared() if "pg_prepared_statements" in sql or "INSERT INTO" in sql]


def test_statements_run_together_are_prepared_and_travel_as_one_logged_round_trip():
    for number in range(1, 8):
        outcomes = db.run_together([_event(number, "together"), db.Statement(READ, ["together"])])
        inserted, counted = outcomes
        assert inserted == db.Outcome(rows=[], rowcount=1)
        assert counted == db.Outcome(rows=[("together", number)], rowcount=1)

    with CaptureQueriesContext(connection) as queries:
        inserted, counted = db.run_together([_event(8, "together"), db.Statement(READ, ["together"])])

    assert (inserted.rowcount, counted.rows) == (1, [("together", 8)])
    assert len(queries) == 1  # the budgets count round trips
    # The log shows the values as the client would have bound them, as for Django's statements.
    assert "'00000000-0000-0000-0000-000000000008'" in queries[0]["sql"]
    assert "'together'" in queries[0]["sql"]
    assert [sql for sql in _prepared() if sql.startswith(f"INSERT INTO {TABLE}")]


def test_a_failing_prepared_statement_of_a_batch_stops_the_rest_and_fails_the_block():
    for number in range(1, 8):  # past the threshold: the INSERT is prepared
        db.run_together([_event(number, "prepared"), db.Statement(READ, ["prepared"])])

    with pytest.raises(IntegrityError), transaction.atomic():
        db.run_together([_event(100, "twice"), _event(100, "twice"), _event(101, "after")])

    assert not ProcessedEvent.objects.filter(consumer__in=["twice", "after"]).exists()
    assert db.fetch(READ, ["prepared"]) == [("prepared", 7)]  # the connection goes on


def test_the_log_shows_a_prepared_reads_values():
    with CaptureQueriesContext(connection) as queries:
        for _ in range(7):
            db.fetch("SELECT %s::int + 1", [41])

    assert [query["sql"] for query in queries] == ["SELECT 41::int + 1"] * 7


def test_off_they_go_through_djangos_cursor_unprepared(monkeypatch):
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)

    for _ in range(8):
        assert db.fetch("SELECT %s::int + 2", [40]) == [(42,)]

    with db._cursor() as cursor:
        assert type(cursor.cursor) is ClientBindingCursor
    assert not [sql for sql in _prepared() if "+ 2" in sql]


def test_instrumented_cursors_see_every_statement(monkeypatch):
    """Tracing and METRICS_DATABASE wrap the connection's cursor class: the kernel's statements use it."""
    executed = []

    class Instrumented(ClientBindingCursor):
        def execute(self, query, params=None, **kwargs):
            executed.append(query)
            return super().execute(query, params, **kwargs)

    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "cursor_factory", Instrumented)

    assert db.fetch("SELECT %s::int + 3", [39]) == [(42,)]
    db.run_together([db.Statement("SELECT 1", []), db.Statement("SELECT 2", [])])

    assert executed == ["SELECT %s::int + 3", "SELECT 1; SELECT 2"]
    with db._cursor() as cursor:
        assert not isinstance(cursor.cursor, PreparingCursor)
