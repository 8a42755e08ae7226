"""``shop.kernel.db``: server-side binding on Django's connection and transaction; ``bulk_update``;
statements sent together (``run_together``); ``joined_transaction``."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Price, Variant
from shop.kernel.db import bound_cursor, bulk_update
from shop.kernel.models import ProcessedEvent
from tests.catalog.factories import sellable_product

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


def test_bulk_update_writes_each_rows_own_values_in_one_statement():
    product = sellable_product(price=["1.00", "2.00", "3.00"], skus=["BU-1", "BU-2", "BU-3"])
    variants = list(product.variants.order_by("sku"))
    prices = list(Price.objects.filter(variant__in=variants).order_by("variant__sku"))
    later = timezone.now() + datetime.timedelta(days=1)
    for number, (variant, price) in enumerate(zip(variants, prices, strict=True)):
        variant.name, variant.is_active = f"renamed 'quoted' \\ {number}", number != 1
        price.amount, price.updated_at = Decimal(f"{number}9.95"), later

    with CaptureQueriesContext(connection) as queries:
        bulk_update(variants, ["name", "is_active"])
        bulk_update(prices, ["amount", "updated_at"])
    bulk_update([], ["name"])  # nothing to write: no statement

    assert len(queries) == 2
    assert list(Variant.objects.filter(product=product).order_by("sku").values_list("name", "is_active")) == [
        ("renamed 'quoted' \\ 0", True),
        ("renamed 'quoted' \\ 1", False),
        ("renamed 'quoted' \\ 2", True),
    ]
    assert list(
        Price.objects.filter(variant__product=product)
        .order_by("variant__sku")
        .values_list("amount", "updated_at")
    ) == [
        (Decimal("9.95"), later),
        (Decimal("19.95"), later),
        (Decimal("29.95"), later),
    ]


@pytest.mark.postgres
def test_bound_statements_are_counted_like_any_other():
    with CaptureQueriesContext(connection) as queries, bound_cursor() as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)

    assert [query["sql"] for query in queries] == ["SELECT %s::int + 1 -- bound on the server"]


def test_insert_statements_and_update_rows_write_many_rows_in_batches_under_the_parameter_limit(monkeypatch):
    from shop.kernel import db

    table = ProcessedEvent._meta.db_table
    now = db.as_datetime_parameter(timezone.now())
    monkeypatch.setattr(db, "MAX_PARAMETERS", 30)  # 10 rows of 3 values a statement
    rows = [(f"00000000-0000-0000-0000-{number:012d}", "many", now) for number in range(1, 26)]
    rows = [(db.as_uuid_parameter(event_id), consumer, at) for event_id, consumer, at in rows]

    statements = db.insert_statements(table, ("event_id", "consumer", "processed_at"), rows)
    assert [len(statement.params) for statement in statements] == [30, 30, 15]  # 10 + 10 + 5 rows
    db.run_together(statements)
    written = ProcessedEvent.objects.filter(consumer="many").order_by("id")
    assert [str(event.event_id)[-2:] for event in written] == [f"{number:02d}" for number in range(1, 26)]

    ids = [event.pk for event in written]
    with CaptureQueriesContext(connection) as updated:
        db.update_rows(table, ("consumer",), [(pk, f"row-{index}") for index, pk in enumerate(ids)])
    assert len([query for query in updated if query["sql"].startswith("UPDATE")]) == 2  # 15 + 10
    consumers = ProcessedEvent.objects.filter(pk__in=ids).order_by("id").values_list("consumer", flat=True)
    assert list(consumers) == [f"row-{index}" for index in range(25)]
    assert db.insert_statements(table, ("event_id", "consumer", "processed_at"), []) == []  # nothing to write


def _event_rows(consumer: str, count: int) -> list[tuple]:
    from shop.kernel import db

    now = db.as_datetime_parameter(timezone.now())
    return [
        (db.as_uuid_parameter(f"00000000-0000-0000-0000-{number:012d}"), consumer, now)
        for number in range(1, count + 1)
    ]


def test_run_together_gives_each_statements_rows_and_row_count_in_order():
    from shop.kernel import db

    table = ProcessedEvent._meta.db_table
    columns = ("event_id", "consumer", "processed_at")
    with CaptureQueriesContext(connection) as queries:
        inserted, counted, deleted, empty = db.run_together(
            [
                *db.insert_statements(table, columns, _event_rows("together", 3)),
                db.Statement(f"SELECT consumer, count(*) FROM {table} GROUP BY consumer", []),  # noqa: S608
                db.Statement(
                    f"DELETE FROM {table} WHERE consumer = %s AND event_id = %s",  # noqa: S608
                    ["together", _event_rows("", 1)[0][0]],
                ),
                db.Statement(f"SELECT event_id FROM {table} WHERE consumer = %s", ["nobody"]),  # noqa: S608
            ]
        )

    assert inserted == db.Outcome(rows=[], rowcount=3)
    assert counted.rows == [("together", 3)]  # the INSERT before it had run
    assert deleted == db.Outcome(rows=[], rowcount=1)
    assert empty.rows == []
    assert ProcessedEvent.objects.filter(consumer="together").count() == 2
    # One round trip on PostgreSQL (one text); SQLite's driver takes one statement at a time.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 4)


def test_a_failing_statement_of_run_together_stops_the_rest_and_fails_the_block():
    from shop.kernel import db

    table = ProcessedEvent._meta.db_table
    twice = db.insert_statements(table, ("event_id", "consumer", "processed_at"), _event_rows("twice", 1))
    after = db.Statement(f"DELETE FROM {table} WHERE consumer = %s", ["kept"])  # noqa: S608
    ProcessedEvent.objects.create(event_id="00000000-0000-0000-0000-000000000099", consumer="kept")

    with pytest.raises(IntegrityError), transaction.atomic():
        db.run_together([*twice, *twice, after])

    assert not ProcessedEvent.objects.filter(consumer="twice").exists()  # rolled back with the block
    assert ProcessedEvent.objects.filter(consumer="kept").exists()  # the DELETE after it never ran


def test_joined_transaction_joins_the_callers_without_a_savepoint_and_leaves_it_usable_after_an_error():
    from shop.kernel import db

    @db.joined_transaction()
    def refuse_before_writing():
        raise LookupError("refused")

    with transaction.atomic():
        ProcessedEvent.objects.create(event_id="00000000-0000-0000-0000-000000000001", consumer="before")
        with CaptureQueriesContext(connection) as queries, pytest.raises(LookupError):
            refuse_before_writing()
        assert not [query for query in queries if "SAVEPOINT" in query["sql"]]
        # The caller goes on: its transaction is not marked for rollback.
        ProcessedEvent.objects.create(event_id="00000000-0000-0000-0000-000000000002", consumer="after")

    assert set(ProcessedEvent.objects.values_list("consumer", flat=True)) == {"before", "after"}


@pytest.mark.django_db(transaction=True)
def test_joined_transaction_opens_a_transaction_of_its_own_outside_one():
    from shop.kernel import db

    with pytest.raises(LookupError), db.joined_transaction():
        assert connection.in_atomic_block
        ProcessedEvent.objects.create(event_id="00000000-0000-0000-0000-000000000001", consumer="alone")
        raise LookupError("after a write")

    assert not ProcessedEvent.objects.exists()  # rolled back
