"""
What must hold after a load test, whatever the load was: checked on the shop's database and the
ERP simulator, against a stack started anywhere (only the database and the simulator must be
reachable; Django is not set up).

- **oversold**: no stock row with ``on_hand < 0``, ``reserved < 0`` or ``reserved > on_hand``
  (the database's CHECK constraints forbid them; this is the proof they held);
- **ledger_mismatch**: every stock row equals the sum of its ledger (``inventory_stockmovement``:
  ``on_hand_delta`` and ``reserved_delta`` per SKU and warehouse, inventory/README.md), and no
  ledger sums to something for a row that does not exist;
- **order_without_lines**: every order has lines;
- **not_handed_over**, **delivered_more_than_once**, **unpaid_order_at_erp**: every paid order
  (``paid``, ``handed_over``, ``shipped``, ``completed``) reached the ERP simulator exactly once
  (its ``GET /orders`` counts deliveries per order number), and no placed or canceled order
  reached it; ``erp_unreachable`` when the simulator does not answer;
- **unexpected_5xx**: no more 5xx answers than the run allows (its documented ones).

Orders are those created since ``since`` when given (the ERP simulator may remember earlier
runs); stock rows are always all checked. Run after the hand-over backlog has drained: an order
still waiting for the ERP is reported as ``not_handed_over``, with its hand-over's status.

    python -m loadtest.invariants --database-url postgres://... --erp-url http://127.0.0.1:8099

prints the violations and exits 1 when there is any. ``benchmarks/http/shop_data.py`` uses the
stock queries too (one definition of "oversold" and "equal to its ledger").
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: Order statuses at or after payment: each such order must have reached the ERP.
PAID_OR_LATER = ("paid", "handed_over", "shipped", "completed")
#: Violations listed one by one per kind; the rest are counted in one more.
LISTED_PER_KIND = 20

#: ``query(sql, params) -> rows``: SQL with ``%s`` placeholders, on any of the shop's databases.
Query = Callable[[str, Sequence[object]], list[tuple]]


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


_OVERSOLD_SQL = """
    SELECT s.sku, w.code, s.on_hand, s.reserved
    FROM inventory_stocklevel s JOIN inventory_warehouse w ON w.id = s.warehouse_id
    WHERE s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand
    ORDER BY s.sku, w.code
"""

# Both directions: a row that differs from its ledger, and a ledger without its row.
_LEDGER_SQL = """
    SELECT s.sku, w.code, s.on_hand, s.reserved, coalesce(m.on_hand, 0), coalesce(m.reserved, 0)
    FROM inventory_stocklevel s
    JOIN inventory_warehouse w ON w.id = s.warehouse_id
    LEFT JOIN (
        SELECT sku, warehouse_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
        FROM inventory_stockmovement GROUP BY sku, warehouse_id
    ) m ON m.sku = s.sku AND m.warehouse_id = s.warehouse_id
    WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0)
    UNION ALL
    SELECT m.sku, w.code, NULL, NULL, sum(m.on_hand_delta), sum(m.reserved_delta)
    FROM inventory_stockmovement m JOIN inventory_warehouse w ON w.id = m.warehouse_id
    WHERE NOT EXISTS (
        SELECT 1 FROM inventory_stocklevel s WHERE s.sku = m.sku AND s.warehouse_id = m.warehouse_id
    )
    GROUP BY m.sku, w.code
    HAVING sum(m.on_hand_delta) <> 0 OR sum(m.reserved_delta) <> 0
    ORDER BY 1, 2
"""


def oversold_rows(query: Query) -> list[tuple]:
    """Stock rows that sell what is not there: ``(sku, warehouse code, on_hand, reserved)``."""
    return query(_OVERSOLD_SQL, ())


def ledger_mismatch_rows(query: Query) -> list[tuple]:
    """
    Stock rows that differ from the sum of their ledger: ``(sku, warehouse code, on_hand,
    reserved, ledger's on_hand, ledger's reserved)``; ``on_hand`` and ``reserved`` are ``None``
    for a ledger whose stock row does not exist.
    """
    return query(_LEDGER_SQL, ())


def stock_violations(query: Query) -> list[Violation]:
    """Oversold stock rows and stock rows that differ from their ledger."""
    oversold = [
        f"{sku} in {warehouse}: on hand {on_hand}, reserved {reserved}"
        for sku, warehouse, on_hand, reserved in oversold_rows(query)
    ]
    mismatched = []
    for sku, warehouse, on_hand, reserved, ledger_on_hand, ledger_reserved in ledger_mismatch_rows(query):
        row = "no stock row" if on_hand is None else f"on hand {on_hand}, reserved {reserved}"
        mismatched.append(
            f"{sku} in {warehouse}: {row}; its ledger replays to on hand {ledger_on_hand}, "
            f"reserved {ledger_reserved}"
        )
    return _listed("oversold", oversold) + _listed("ledger_mismatch", mismatched)


def order_violations(query: Query, *, since: datetime | None = None) -> list[Violation]:
    """Orders (created since ``since``) without lines."""
    created, params = _since(since)
    numbers = query(
        f"""
        SELECT o.number FROM checkout_order o
        WHERE NOT EXISTS (SELECT 1 FROM checkout_orderline l WHERE l.order_id = o.id) {created}
        ORDER BY o.id
        """,  # noqa: S608 - constant fragments only, the values are parameters
        params,
    )
    return _listed("order_without_lines", [f"order {number} has no lines" for (number,) in numbers])


def handover_violations(
    query: Query, erp_orders: list[dict], *, since: datetime | None = None
) -> list[Violation]:
    """
    Paid orders (created since ``since``) that the ERP received not exactly once, and placed or
    canceled orders that it received at all. ``erp_orders`` is the simulator's ``GET /orders``.
    """
    deliveries: dict[str, int] = {}
    for received in erp_orders:
        number = str(received.get("order_number"))
        deliveries[number] = deliveries.get(number, 0) + int(received.get("deliveries") or 0)
    created, params = _since(since)
    paid = query(
        f"""
        SELECT o.number, o.status, h.status, h.attempts, h.last_error
        FROM checkout_order o LEFT JOIN integrations_erphandover h ON h.order_number = o.number
        WHERE o.status IN ({", ".join(["%s"] * len(PAID_OR_LATER))}) {created}
        ORDER BY o.id
        """,  # noqa: S608 - constant fragments only, the values are parameters
        (*PAID_OR_LATER, *params),
    )
    missing, repeated = [], []
    for number, status, handover_status, attempts, last_error in paid:
        count = deliveries.get(number, 0)
        if count == 0:
            handover = (
                "no hand-over recorded"
                if handover_status is None
                else f"hand-over {handover_status} after {attempts} attempts"
                + (f", last error: {last_error[:120]}" if last_error else "")
            )
            missing.append(f"order {number} ({status}) never reached the ERP: {handover}")
        elif count > 1:
            repeated.append(f"order {number} ({status}) reached the ERP {count} times")
    unpaid = query(
        f"""
        SELECT o.number, o.status FROM checkout_order o WHERE o.status IN ('placed', 'canceled') {created}
        ORDER BY o.id
        """,  # noqa: S608 - constant fragments only, the values are parameters
        params,
    )
    received_unpaid = [
        f"order {number} ({status}) reached the ERP" for number, status in unpaid if deliveries.get(number)
    ]
    return (
        _listed("not_handed_over", missing)
        + _listed("delivered_more_than_once", repeated)
        + _listed("unpaid_order_at_erp", received_unpaid)
    )


def server_error_violations(*, allowed_5xx: int, observed_5xx: int) -> list[Violation]:
    """More 5xx answers than the run's documented ones."""
    if observed_5xx <= allowed_5xx:
        return []
    return [
        Violation(
            "unexpected_5xx", f"{observed_5xx} answers were 5xx, {allowed_5xx} allowed (the documented ones)"
        )
    ]


def database_violations(query: Query, *, since: datetime | None = None) -> list[Violation]:
    """Every check that needs only the database."""
    return stock_violations(query) + order_violations(query, since=since)


def fetch_erp_orders(erp_url: str, *, timeout: float = 30.0) -> list[dict]:
    """The simulator's ``GET /orders``. Raises ``OSError`` (unreachable) or ``ValueError``."""
    request = urllib.request.Request(erp_url.rstrip("/") + "/orders", headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the operator's ERP_URL
        orders = json.loads(response.read())
    if not isinstance(orders, list):
        raise ValueError(f"GET /orders answered {type(orders).__name__}, not a list")
    return orders


def check(
    *,
    database_url: str,
    erp_url: str,
    since: datetime | None = None,
    allowed_5xx: int = 0,
    observed_5xx: int = 0,
) -> list[Violation]:
    """
    Every invariant, on the database at ``database_url`` (``postgres://`` or ``sqlite:///``) and
    the ERP simulator at ``erp_url``; an empty list when all hold. A database or simulator that
    does not answer is a violation too (``database_unreachable``, ``erp_unreachable``): nothing
    unverified passes.
    """
    violations = server_error_violations(allowed_5xx=allowed_5xx, observed_5xx=observed_5xx)
    try:
        erp_orders = fetch_erp_orders(erp_url)
    except (OSError, ValueError) as exc:
        erp_orders = None
        violations.append(Violation("erp_unreachable", f"GET {erp_url.rstrip('/')}/orders: {exc}"))
    try:
        with _connect(database_url) as query:
            violations += database_violations(query, since=since)
            if erp_orders is not None:
                violations += handover_violations(query, erp_orders, since=since)
    except (sqlite3.Error, _psycopg_error()) as exc:
        violations.append(Violation("database_unreachable", f"{_redacted(database_url)}: {exc}"))
    return violations


def django_query(connection) -> Query:
    """A ``Query`` on a Django database connection (``django.db.connection``), in its transaction."""

    def query(sql: str, params: Sequence[object]) -> list[tuple]:
        if connection.vendor == "sqlite":
            params = [_sqlite_value(value) for value in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return query


class _connect:
    """
    A read-only connection as a ``Query``, in one snapshot on PostgreSQL (``REPEATABLE READ``), so
    that the stock rows and their ledger are compared as of one moment while the shop still writes.
    """

    def __init__(self, database_url: str):
        self.url = database_url

    def __enter__(self) -> Query:
        scheme = self.url.split(":", 1)[0].lower()
        if scheme == "sqlite":
            path = self.url.split(":///", 1)[1] if ":///" in self.url else ""
            # file:... is a URI (an in-memory database shared in this process, as a test's).
            self.connection = sqlite3.connect(path, uri=path.startswith("file:"), timeout=20)

            def query(sql: str, params: Sequence[object]) -> list[tuple]:
                cursor = self.connection.execute(sql.replace("%s", "?"), [_sqlite_value(v) for v in params])
                return cursor.fetchall()

            return query
        if scheme not in ("postgres", "postgresql"):
            raise ValueError(f"database URL {_redacted(self.url)}: postgres:// or sqlite:/// expected")
        import psycopg

        self.connection = psycopg.connect(self.url, connect_timeout=10)
        self.connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.connection.read_only = True

        def query(sql: str, params: Sequence[object]) -> list[tuple]:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        return query

    def __exit__(self, *exc_info) -> None:
        self.connection.rollback()
        self.connection.close()


def _psycopg_error() -> type[Exception]:
    try:
        import psycopg
    except ImportError:  # only SQLite then
        return sqlite3.Error
    return psycopg.Error


def _sqlite_value(value: object) -> object:
    """Datetimes as Django stores them in SQLite: naive UTC text."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    return value


def _since(since: datetime | None) -> tuple[str, tuple]:
    if since is None:
        return "", ()
    if since.tzinfo is None:
        raise ValueError("since must be an aware datetime")
    return "AND o.created_at >= %s", (since,)


def _listed(kind: str, details: list[str]) -> list[Violation]:
    listed = [Violation(kind, detail) for detail in details[:LISTED_PER_KIND]]
    if len(details) > LISTED_PER_KIND:
        listed.append(Violation(kind, f"... and {len(details) - LISTED_PER_KIND} more"))
    return listed


def _redacted(database_url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = database_url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return database_url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials else database_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the shop's invariants after a load test.")
    parser.add_argument(
        "--database-url", required=True, help="postgres://... (or sqlite:///path) of the shop"
    )
    parser.add_argument("--erp-url", required=True, help="the ERP simulator, e.g. http://127.0.0.1:8099")
    parser.add_argument(
        "--since", type=datetime.fromisoformat, help="only orders created since (ISO 8601 with offset)"
    )
    parser.add_argument("--allowed-5xx", type=int, default=0)
    parser.add_argument("--observed-5xx", type=int, default=0)
    args = parser.parse_args(argv)
    violations = check(
        database_url=args.database_url,
        erp_url=args.erp_url,
        since=args.since,
        allowed_5xx=args.allowed_5xx,
        observed_5xx=args.observed_5xx,
    )
    for violation in violations:
        print(f"{violation.kind}: {violation.detail}")
    print(f"{len(violations)} violations" if violations else "invariants hold", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
