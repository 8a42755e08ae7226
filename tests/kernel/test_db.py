"""``shop.kernel.db.bound_cursor``: server-side binding on Django's connection and transaction."""

import pytest
from django.db import IntegrityError, connection, connections, transaction

from shop.kernel.db import bound_cursor
from shop.kernel.models import ProcessedEvent

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_it_works_in_the_current_transaction_with_arrays_bound_on_the_server():
    table = connection.ops.quote_name(ProcessedEvent._meta.db_table)
    ids = [f"00000000-0000-0000-0000-{number:012d}" for number in range(1, 2001)]

    with transaction.atomic():
        with bound_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (event_id, consumer, processed_at) "  # noqa: S608 - a model's table
                "SELECT e, %s, now() FROM unnest(%s::uuid[]) AS t(e)",
                ["bulk", ids],
            )
        # The ORM, on the same connection and in the same transaction, sees the rows.
        assert ProcessedEvent.objects.filter(consumer="bulk").count() == 2000
        transaction.set_rollback(True)

    assert not ProcessedEvent.objects.filter(consumer="bulk").exists()


@pytest.mark.postgres
def test_database_errors_come_out_as_djangos_and_roll_back_with_the_block():
    table = connection.ops.quote_name(ProcessedEvent._meta.db_table)
    statement = f"INSERT INTO {table} (event_id, consumer, processed_at) VALUES (%s, %s, now())"  # noqa: S608
    event_id = "00000000-0000-0000-0000-000000000001"

    with pytest.raises(IntegrityError), transaction.atomic(), bound_cursor() as cursor:
        cursor.execute(statement, [event_id, "twice"])
        cursor.execute(statement, [event_id, "twice"])

    assert not ProcessedEvent.objects.exists()
    assert ProcessedEvent.objects.create(event_id=event_id, consumer="twice")  # the connection is usable


def test_it_refuses_other_databases(monkeypatch):
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")

    with pytest.raises(RuntimeError, match="PostgreSQL"), bound_cursor():
        pass
