"""
The load test's invariant checker (``loadtest.invariants``) on real data: orders placed through
checkout's HTTP API, handed over to the real ERP simulator by integrations' delivery service, then
faults planted with SQL where the shop itself never would.

An oversell cannot be planted as the shop stands: the CHECK constraints of
``inventory_stocklevel`` refuse ``reserved > on_hand``. The test lifts them for its own
transaction only (PostgreSQL: ``ALTER TABLE ... DROP CONSTRAINT``, undone by the test's rollback;
SQLite: ``PRAGMA ignore_check_constraints``), so the checker's oversell branch is tested on a real
stock row, on both databases.
"""

import io
import json
import urllib.request
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from integrations.services import erp as erp_services
from inventory import api as inventory_api
from loadtest import invariants
from loadtest.invariants import Violation, check, django_query
from tests.checkout.support import stocked_skus
from tests.integrations.erp_support import cancel_order, create_shipping_methods, place_orders_with_tokens


def _hand_over(number: str) -> None:
    """The hand-over as the worker does it: recorded, then delivered to ``ERP_URL``."""
    erp_services.handover_create(order_number=number, payload={"number": number})
    assert erp_services.handover_deliver(order_number=number) == "delivered"


def _deliver_again(erp_url: str, number: str, status: str = "paid") -> None:
    """A POST /orders for ``number`` as the shop would send it (a second delivery, or a stray one)."""
    request = urllib.request.Request(  # noqa: S310 - the test's simulator
        erp_url + "/orders",
        data=json.dumps({"number": number, "status": status}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": number},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status in (200, 201)


def _sql(sql: str, params: tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _lift_stock_checks() -> None:
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE")  # no ALTER TABLE with deferred checks pending
        for name in ("stocklevel_reserved_within_on_hand", "stocklevel_on_hand_non_negative"):
            _sql(f"ALTER TABLE inventory_stocklevel DROP CONSTRAINT {name}")
        _sql("SET CONSTRAINTS ALL DEFERRED")
    else:
        _sql("PRAGMA ignore_check_constraints = ON")


def _restore_stock_checks() -> None:
    if connection.vendor == "sqlite":
        _sql("PRAGMA ignore_check_constraints = OFF")


def _kinds(violations: list[Violation]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for violation in violations:
        found.setdefault(violation.kind, []).append(violation.detail)
    return found


def _database_and_erp(erp_url: str, *, since=None) -> list[Violation]:
    query = django_query(connection)
    return invariants.database_violations(query, since=since) + invariants.handover_violations(
        query, invariants.fetch_erp_orders(erp_url), since=since
    )


@pytest.fixture
def shop(db, erp_simulator):
    """Three paid orders, each handed over to the simulator once; a stocked SKU never ordered."""
    create_shipping_methods()
    placed = place_orders_with_tokens(3)
    for number, _token in placed:
        _hand_over(number)
    return placed


def test_a_consistent_shop_has_no_violations(shop, erp_simulator):
    stocked_skus(7)
    assert [order["deliveries"] for order in erp_simulator.orders()] == [1, 1, 1]
    assert _database_and_erp(erp_simulator.url) == []


def test_each_planted_fault_is_reported_by_its_kind(shop, erp_simulator):
    (clean, _), (duplicated, _), (lineless, _) = shop
    create_shipping_methods()
    (missing, _), (canceled, canceled_token) = place_orders_with_tokens(2)  # never handed over
    assert cancel_order(canceled, canceled_token).status_code == 200
    _deliver_again(erp_simulator.url, duplicated)
    _deliver_again(erp_simulator.url, canceled, status="canceled")
    _sql(
        "DELETE FROM checkout_orderline WHERE order_id IN (SELECT id FROM checkout_order WHERE number = %s)",
        (lineless,),
    )
    drifted, oversold = stocked_skus(10, 4)
    _sql("UPDATE inventory_stocklevel SET on_hand = on_hand + 3 WHERE sku = %s", (drifted,))
    _lift_stock_checks()
    try:
        _sql("UPDATE inventory_stocklevel SET reserved = on_hand + 2 WHERE sku = %s", (oversold,))
        found = _kinds(_database_and_erp(erp_simulator.url))
    finally:
        _restore_stock_checks()

    assert found.keys() == {
        "oversold",
        "ledger_mismatch",
        "order_without_lines",
        "not_handed_over",
        "delivered_more_than_once",
        "unpaid_order_at_erp",
    }
    assert found["oversold"] == [f"{oversold} in MAIN: on hand 4, reserved 6"]
    assert sorted(found["ledger_mismatch"]) == [
        f"{drifted} in MAIN: on hand 13, reserved 0; its ledger replays to on hand 10, reserved 0",
        f"{oversold} in MAIN: on hand 4, reserved 6; its ledger replays to on hand 4, reserved 0",
    ]
    assert found["order_without_lines"] == [f"order {lineless} has no lines"]
    assert found["not_handed_over"] == [
        f"order {missing} (paid) never reached the ERP: no hand-over recorded"
    ]
    assert found["delivered_more_than_once"] == [f"order {duplicated} (handed_over) reached the ERP 2 times"]
    assert found["unpaid_order_at_erp"] == [f"order {canceled} (canceled) reached the ERP"]
    assert clean not in repr(found)


def test_a_pending_hand_over_is_reported_with_its_state(shop, erp_simulator):
    create_shipping_methods()
    ((number, _),) = place_orders_with_tokens(1)
    erp_simulator.control(fail_rate=1.0)
    erp_services.handover_create(order_number=number, payload={"number": number})
    assert erp_services.handover_deliver(order_number=number) == "retrying"

    (detail,) = _kinds(_database_and_erp(erp_simulator.url))["not_handed_over"]
    assert detail.startswith(
        f"order {number} (paid) never reached the ERP: hand-over pending after 1 attempts"
    )
    assert "503" in detail


def test_orders_before_since_are_not_checked_but_stock_always_is(shop, erp_simulator):
    create_shipping_methods()
    (_missing, _), (lineless, _) = place_orders_with_tokens(2)
    _sql(
        "DELETE FROM checkout_orderline WHERE order_id IN (SELECT id FROM checkout_order WHERE number = %s)",
        (lineless,),
    )
    (drifted,) = stocked_skus(5)
    inventory_api.set_on_hand(sku=drifted, warehouse="MAIN", on_hand=9, reason="receipt")
    _sql("UPDATE inventory_stocklevel SET reserved = 1 WHERE sku = %s", (drifted,))

    later = datetime.now(UTC) + timedelta(seconds=1)
    assert _kinds(_database_and_erp(erp_simulator.url, since=later)) == {
        "ledger_mismatch": [
            f"{drifted} in MAIN: on hand 9, reserved 1; its ledger replays to on hand 9, reserved 0"
        ]
    }
    earlier = datetime.now(UTC) - timedelta(hours=1)
    assert _kinds(_database_and_erp(erp_simulator.url, since=earlier)).keys() == {
        "ledger_mismatch",
        "order_without_lines",
        "not_handed_over",
    }


def test_a_ledger_without_its_stock_row_is_a_mismatch(db):
    (sku,) = stocked_skus(6)
    _sql("DELETE FROM inventory_stocklevel WHERE sku = %s", (sku,))
    assert invariants.stock_violations(django_query(connection)) == [
        Violation(
            "ledger_mismatch", f"{sku} in MAIN: no stock row; its ledger replays to on hand 6, reserved 0"
        )
    ]


def test_many_violations_of_a_kind_are_listed_up_to_a_limit_then_counted(db, monkeypatch):
    monkeypatch.setattr(invariants, "LISTED_PER_KIND", 2)
    skus = stocked_skus(1, 1, 1, 1)
    _sql("UPDATE inventory_stocklevel SET on_hand = on_hand + 1")
    details = [v.detail for v in invariants.stock_violations(django_query(connection))]
    assert details[:2] == [
        f"{sku} in MAIN: on hand 2, reserved 0; its ledger replays to on hand 1, reserved 0"
        for sku in skus[:2]
    ]
    assert details[2:] == ["... and 2 more"]


@pytest.mark.parametrize(("observed", "allowed", "expected"), [(0, 0, 0), (3, 3, 0), (4, 3, 1), (1, 0, 1)])
def test_more_5xx_than_allowed_is_a_violation(observed, allowed, expected):
    violations = invariants.server_error_violations(allowed_5xx=allowed, observed_5xx=observed)
    assert [v.kind for v in violations] == ["unexpected_5xx"] * expected
    if expected:
        assert violations[0].detail == f"{observed} answers were 5xx, {allowed} allowed (the documented ones)"


def _database_url() -> str:
    """The URL of the test's database, as a stack started elsewhere would be given it."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = f"{settings['HOST']}:{settings['PORT'] or 5432}"
    return f"postgres://{settings['USER']}{password}@{host}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_check_and_its_command_read_the_database_by_url_and_the_erp_over_http(erp_simulator):
    """
    ``check`` opens its own connection (committed data only, hence a transactional test), and the
    command prints what it finds and exits 1 on any violation, 0 when all hold.
    """
    create_shipping_methods()
    (delivered, _), (missing, _) = place_orders_with_tokens(2)
    _hand_over(delivered)
    url = _database_url()

    assert check(database_url=url, erp_url=erp_simulator.url, observed_5xx=2, allowed_5xx=1) == [
        Violation("unexpected_5xx", "2 answers were 5xx, 1 allowed (the documented ones)"),
        Violation("not_handed_over", f"order {missing} (paid) never reached the ERP: no hand-over recorded"),
    ]
    out = io.StringIO()
    with redirect_stdout(out):
        status = invariants.main(["--database-url", url, "--erp-url", erp_simulator.url])
    assert status == 1
    assert (
        out.getvalue()
        == f"not_handed_over: order {missing} (paid) never reached the ERP: no hand-over recorded\n"
    )

    _hand_over(missing)
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            invariants.main(["--database-url", url, "--erp-url", erp_simulator.url, "--allowed-5xx", "1"])
            == 0
        )
    assert out.getvalue() == ""
    since = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert invariants.main(["--database-url", url, "--erp-url", erp_simulator.url, "--since", since]) == 0


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_erp_or_database_is_a_violation_not_a_pass(erp_simulator):
    closed = erp_simulator.url
    erp_simulator.server.shutdown()
    erp_simulator.server.server_close()
    (violation,) = check(database_url=_database_url(), erp_url=closed)
    assert violation.kind == "erp_unreachable"
    assert violation.detail.startswith(f"GET {closed}/orders: ")

    kinds = [v.kind for v in check(database_url="postgres://nobody:secret@127.0.0.1:1/none", erp_url=closed)]
    assert kinds == ["erp_unreachable", "database_unreachable"]
    detail = check(database_url="postgres://nobody:secret@127.0.0.1:1/none", erp_url=closed)[1].detail
    assert "secret" not in detail
    assert detail.startswith("postgres://nobody:***@127.0.0.1:1/none: ")
