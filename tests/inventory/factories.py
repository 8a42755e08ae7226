"""
Set-up for the inventory tests, through ``inventory.api`` like any other context would: a
warehouse factory and helpers for stock, expiry and reading the ledger back.
"""

from datetime import timedelta

import factory
from django.db.models import Sum
from django.utils import timezone

from inventory import api
from inventory.data import StockLine
from inventory.models import Reservation, StockLevel, StockMovement


class WarehouseFactory(factory.Factory):
    """Creates a warehouse through ``api.ensure_warehouse``; the factory returns its code."""

    class Meta:
        model = dict

    code = factory.Sequence(lambda n: f"wh-{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    priority = 0

    @classmethod
    def _create(cls, model_class, **kwargs):
        api.ensure_warehouse(**kwargs)
        return kwargs["code"]


def stock(sku: str, on_hand: int, *, warehouse: str = "main", priority: int = 0) -> None:
    """``on_hand`` of ``sku`` received in ``warehouse`` (created if need be)."""
    api.ensure_warehouse(code=warehouse, name=warehouse.title(), priority=priority)
    api.set_on_hand(sku=sku, warehouse=warehouse, on_hand=on_hand, reason="receipt")


def lines(**quantities: int) -> list[StockLine]:
    """``lines(A=1, B=2)``: stock lines (SKUs that are valid identifiers)."""
    return [StockLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items()]


def expire(reference: str, *, seconds_ago: int = 1) -> None:
    """Let the reservation under ``reference`` expire, without any clean-up running."""
    Reservation.objects.filter(reference=reference).update(
        expires_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def levels(sku: str) -> dict[str, tuple[int, int]]:
    """``{warehouse code: (on_hand, reserved)}`` as stored (expired reservations included)."""
    return {
        code: (on_hand, reserved)
        for code, on_hand, reserved in StockLevel.objects.filter(sku=sku).values_list(
            "warehouse__code", "on_hand", "reserved"
        )
    }


def replayed() -> dict[tuple[str, str], tuple[int, int]]:
    """The ledger summed per (SKU, warehouse code), sums of zero left out: what the rows must say."""
    rows = (
        StockMovement.objects.order_by()
        .values("sku", "warehouse__code")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    )
    return {
        (row["sku"], row["warehouse__code"]): (row["on_hand"], row["reserved"])
        for row in rows
        if row["on_hand"] or row["reserved"]
    }


def stored() -> dict[tuple[str, str], tuple[int, int]]:
    """Every stock row, ``{(sku, warehouse code): (on_hand, reserved)}``, rows of zeros left out."""
    return {
        (sku, code): (on_hand, reserved)
        for sku, code, on_hand, reserved in StockLevel.objects.values_list(
            "sku", "warehouse__code", "on_hand", "reserved"
        )
        if on_hand or reserved
    }
