"""
The ledger's reads on hot paths stay on their index when PostgreSQL runs them prepared with a
generic plan (``shop.kernel.db`` keeps them prepared): a generic plan does not know the values,
and with a movement's kind as a parameter the one planned for the most common kind scanned the
whole ledger. Asserted on a ledger whose statistics say one kind and one reference are nearly all
of it, as a shop's seeded stock makes them.
"""

import re

import pytest
from django.db import connection

from inventory import selectors
from inventory.models import StockMovement
from tests.inventory.factories import stock

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _generic_plan(statement) -> str:
    """EXPLAIN of ``statement`` prepared and run with a generic plan, as a prepared statement is."""
    numbered = iter(range(1, len(statement.params) + 1))
    sql = re.sub("%s", lambda _match: f"${next(numbered)}", statement.sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE ledger_read AS {sql}")
        try:
            cursor.execute(
                f"EXPLAIN EXECUTE ledger_read({', '.join(['%s'] * len(statement.params))})",
                statement.params,
            )
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE ledger_read")


@pytest.fixture
def skewed_ledger():
    stock("PLAN-1", 5)
    movement = StockMovement.objects.get(sku="PLAN-1")
    table = StockMovement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - the model's table
            "(kind, sku, warehouse_id, reference, on_hand_delta, reserved_delta, created_at) "
            "SELECT %s, 'PLAN-' || n, %s, %s, 1, 0, now() FROM generate_series(2, 20000) AS n",
            [StockMovement.Kind.RECEIPT, movement.warehouse_id, movement.reference],
        )
        cursor.execute(f"ANALYZE {table}")


@pytest.mark.parametrize(
    "statement",
    [
        lambda: selectors.order_movements_statement("260101-ORDER", StockMovement.Kind.ALLOCATION),
        lambda: selectors.reserved_demand_statement("260101-ORDER"),
    ],
    ids=["order_movements", "reserved_demand"],
)
def test_a_ledger_read_keeps_to_its_index_under_a_generic_plan(skewed_ledger, statement):
    plan = _generic_plan(statement())

    assert "Seq Scan on inventory_stockmovement" not in plan, plan


def test_a_kind_is_written_into_the_statement_only_if_it_is_one_of_the_models():
    statement = selectors.order_movements_statement("260101-ORDER", StockMovement.Kind.RETURN)
    assert "kind = 'return'" in statement.sql
    assert statement.params == ["260101-ORDER"]

    with pytest.raises(ValueError, match="not a valid"):
        selectors.order_movements_statement("260101-ORDER", "x' OR '1'='1")
