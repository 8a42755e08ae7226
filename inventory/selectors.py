"""
The inventory's reads. They take no locks; expired reservations count for nobody, so every read
subtracts only the reservation lines that have not expired yet, whether the expired ones were
cleaned up or not.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.models import KnownSku, ReservationLine, StockLevel, StockMovement, Warehouse


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


def expired_quantity(now: datetime) -> Coalesce:
    """The quantity of the expired reservation lines on the outer stock row (a subquery)."""
    lines = (
        ReservationLine.objects.filter(
            sku=OuterRef("sku"), warehouse_id=OuterRef("warehouse_id"), reservation__expires_at__lte=now
        )
        .order_by()
        .values("sku")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(lines), 0, output_field=models.BigIntegerField())


def stock_rows(skus: Iterable[str]) -> list[StockRow]:
    """The stock rows of ``skus`` in every warehouse, in priority order (one query)."""
    skus = list(dict.fromkeys(skus))
    if not skus:
        return []
    rows = (
        StockLevel.objects.filter(sku__in=skus)
        .annotate(expired=expired_quantity(timezone.now()))
        .order_by("sku", "warehouse__priority", "warehouse__code")
        .values_list("sku", "warehouse__code", "warehouse__is_active", "on_hand", "reserved", "expired")
    )
    return [
        StockRow(
            sku=sku,
            warehouse_code=code,
            warehouse_active=active,
            on_hand=on_hand,
            reserved=reserved - expired,
        )
        for sku, code, active, on_hand, reserved, expired in rows
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


def reserved_demand(*, reservation_id=None, reference: str = "") -> tuple[uuid.UUID | None, dict[str, int]]:
    """
    What a reservation held when it was made, per SKU, from the ledger (which outlives it): of
    ``reservation_id``, or else of the latest reservation made under ``reference``. Returns the
    reservation's id and the quantities (empty if the ledger knows no such reservation). One query.
    """
    movements = StockMovement.objects.filter(kind=StockMovement.Kind.RESERVATION)
    if reservation_id is None:
        latest = movements.filter(reference=reference).order_by("-id").values("reservation_id")[:1]
        movements = movements.filter(reservation_id=Subquery(latest))
    else:
        movements = movements.filter(reservation_id=reservation_id)
    rows = list(
        movements.order_by()
        .values("reservation_id", "sku")
        .annotate(total=Sum("reserved_delta"))
        .values_list("reservation_id", "sku", "total")
    )
    demand = {sku: total for _, sku, total in rows if total > 0}
    return (rows[0][0] if rows else reservation_id), demand


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


def order_has_movements(order_number: str, kind: str) -> bool:
    return StockMovement.objects.filter(kind=kind, reference=order_number).exists()
