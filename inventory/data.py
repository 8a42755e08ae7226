"""Data that crosses the inventory's border: frozen dataclasses of stdlib types."""

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StockLine:
    """A quantity of a SKU: what a caller asks to reserve, and what a reservation holds."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class Availability:
    """
    A SKU's stock as sellers see it. Expired reservations count for nobody: ``reserved`` leaves
    them out and ``available`` includes their quantity, cleaned up or not. ``available`` counts
    active warehouses only; ``on_hand`` and ``reserved`` count every warehouse.
    """

    sku: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class WarehouseStock:
    """A SKU's stock in one warehouse (``reserved`` without expired reservations)."""

    code: str
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class StockDetail:
    """A SKU's stock in total (as ``Availability``) and per warehouse, in priority order."""

    sku: str
    on_hand: int
    reserved: int
    available: int
    warehouses: tuple[WarehouseStock, ...]


@dataclass(frozen=True)
class Shortage:
    """A SKU of which less is ``available`` than was ``requested``."""

    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class ReservationInfo:
    """A reservation as made: its ``lines`` are the requested quantities per SKU, SKUs sorted."""

    id: uuid.UUID
    reference: str
    expires_at: datetime
    lines: tuple[StockLine, ...]


@dataclass(frozen=True)
class LevelsSet:
    """
    What ``set_on_hand_many`` did: how many rows ``changed`` a level, how many were
    ``unchanged``, and the ``rejected`` ones as ``{index in the input: why}``.
    """

    changed: int
    unchanged: int
    rejected: dict[int, str]
