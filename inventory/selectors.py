"""
The inventory's reads. They take no locks; expired reservations count for nobody, so every read
subtracts only the reservation lines that have not expired yet, whether the expired ones were
cleaned up or not.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from inventory.models import KnownSku, Reservation, ReservationLine, StockLevel, StockMovement, Warehouse
from shop.kernel.db import Statement, as_datetime_parameter, as_uuid, fetch, placeholders


@dataclass(frozen=True)
class StockRow:
    """A stock row as a read sees it: ``reserved`` without expired reservation lines."""

    sku: str
    warehouse_code: str
    warehouse_active: bool
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved if self.warehouse_active else 0


def stock_rows(skus: Iterable[str]) -> list[StockRow]:
    """
    The stock rows of ``skus`` in every warehouse, in priority order (one query). Written in SQL:
    every add to a cart and every reservation reads it, and the ORM's building of it (with the
    expired lines' subquery) cost more than running it.
    """
    skus = list(dict.fromkeys(skus))
    if not skus:
        return []
    # S608: the tables' names are the models', every value is a parameter.
    rows = fetch(
        f"""
        SELECT s.sku, w.code, w.is_active, s.on_hand, s.reserved - COALESCE((
            SELECT SUM(line.quantity)
            FROM {ReservationLine._meta.db_table} line
            JOIN {Reservation._meta.db_table} r ON r.id = line.reservation_id
            WHERE line.sku = s.sku AND line.warehouse_id = s.warehouse_id AND r.expires_at <= %s
        ), 0)
        FROM {StockLevel._meta.db_table} s
        JOIN {Warehouse._meta.db_table} w ON w.id = s.warehouse_id
        WHERE s.sku IN ({placeholders(len(skus))})
        ORDER BY s.sku, w.priority, w.code
        """,  # noqa: S608
        [as_datetime_parameter(timezone.now()), *skus],
    )
    return [  # reserved: SUM of a bigint is a numeric on PostgreSQL
        StockRow(
            sku=sku,
            warehouse_code=code,
            warehouse_active=bool(active),
            on_hand=on_hand,
            reserved=int(reserved),
        )
        for sku, code, active, on_hand, reserved in rows
    ]


def sku_is_known(sku: str) -> bool:
    """True if the catalog registered ``sku`` or some warehouse has a stock row of it (one query)."""
    return (
        KnownSku.objects.filter(sku=sku)
        .values("sku")
        .union(StockLevel.objects.filter(sku=sku).values("sku"))
        .exists()
    )


def skus_in_warehouse(warehouse_id: int) -> list[str]:
    """The SKUs with a stock row in the warehouse."""
    return list(StockLevel.objects.filter(warehouse_id=warehouse_id).values_list("sku", flat=True))


def warehouse_by_code(code: str) -> Warehouse | None:
    return Warehouse.objects.filter(code=code).first()


def reserved_demand_statement(reference: str) -> Statement:
    """
    What the reservation made under ``reference`` held when it was made, per SKU, from the ledger
    (which outlives it): of the reservation that exists under ``reference``, or else of the latest
    one the ledger knows under it. One statement that needs no earlier read (every completion
    sends it with its other first reads); its rows go to ``reserved_demand_from``.
    """
    table = StockMovement._meta.db_table
    kind = _kind_literal(StockMovement.Kind.RESERVATION)
    return Statement(
        f"SELECT reservation_id, sku, SUM(reserved_delta) FROM {table} "  # noqa: S608 - the models' tables
        f"WHERE kind = {kind} AND reservation_id = COALESCE("
        f"(SELECT id FROM {Reservation._meta.db_table} WHERE reference = %s), "
        f"(SELECT reservation_id FROM {table} WHERE kind = {kind} AND reference = %s "
        "ORDER BY id DESC LIMIT 1)"
        ") GROUP BY reservation_id, sku",
        [reference, reference],
    )


def reserved_demand_from(rows: list[tuple], reservation_id=None) -> tuple[uuid.UUID | None, dict[str, int]]:
    """The reservation's id (``reservation_id`` if the ledger has no rows) and quantity per SKU."""
    demand = {sku: int(total) for _, sku, total in rows if total > 0}  # SUM: numeric on PostgreSQL
    return (as_uuid(rows[0][0]) if rows else reservation_id), demand


def order_allocations(order_number: str) -> list[tuple[str, int, int]]:
    """``(sku, warehouse id, quantity)`` allocated to an order, from the ledger."""
    rows = (
        StockMovement.objects.filter(kind=StockMovement.Kind.ALLOCATION, reference=order_number)
        .order_by()
        .values("sku", "warehouse_id")
        .annotate(total=Sum("on_hand_delta"))
        .values_list("sku", "warehouse_id", "total")
    )
    return [(sku, warehouse_id, -total) for sku, warehouse_id, total in rows if total]


def order_movements_statement(order_number: str, kind: str) -> Statement:
    """The read whose rows say whether ``order_number`` has stock movements of ``kind`` (any row: yes)."""
    table = StockMovement._meta.db_table
    sql = f"SELECT 1 FROM {table} WHERE reference = %s AND kind = {_kind_literal(kind)} LIMIT 1"  # noqa: S608
    return Statement(sql, [order_number])


def _kind_literal(kind: str) -> str:
    """
    A movement's kind written into a statement's text, not bound as a parameter. The ledger holds
    a few kinds in very different numbers; a statement kept prepared (``shop.kernel.db``) gets a
    generic plan that does not know which kind it asks for, and one planned for the most common
    kind scanned the whole ledger (5.6 ms an order's check instead of 0.07). Only the model's
    own kinds are written in.
    """
    return f"'{StockMovement.Kind(kind).value}'"


def order_has_movements(order_number: str, kind: str) -> bool:
    return bool(fetch(*order_movements_statement(order_number, kind)))
