"""
What inventory refuses, one exception per fact: its services raise them where the fact is
detected, ``inventory.api`` lets them through to other contexts, and each context's
``rest_api/problems.py`` says how it answers them over HTTP.
"""

from inventory.data import Shortage
from shop.kernel.sku import UnknownSku

__all__ = [
    "BelowReserved",
    "InsufficientStock",
    "NothingReserved",
    "ReservationExpired",
    "UnknownSku",
    "UnknownWarehouse",
]


def _listed(shortages: list[Shortage]) -> str:
    return ", ".join(f"{s.sku} ({s.available} of {s.requested} available)" for s in shortages)


class InsufficientStock(Exception):
    """
    Out of stock: fewer can be had than were asked for. ``shortages`` names every short SKU with
    what was requested and what is available; nothing was reserved or taken.
    """

    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        super().__init__(f"Insufficient stock: {_listed(shortages)}.")


class ReservationExpired(Exception):
    """
    A reservation expired or is gone and its stock can no longer be had; ``shortages`` names the
    short SKUs (empty if nothing was ever reserved under the reference).
    """

    def __init__(self, shortages: list[Shortage], message: str = ""):
        self.shortages = shortages
        super().__init__(message or f"The reservation expired and the stock is gone: {_listed(shortages)}.")


class NothingReserved(ReservationExpired):
    """Nothing was ever reserved under this reference (a commit without a reservation)."""

    def __init__(self, reference: str):
        super().__init__([], f"Nothing was reserved under {reference!r}.")
        self.reference = reference


class UnknownWarehouse(LookupError):
    """No warehouse has this code."""

    def __init__(self, code: str):
        super().__init__(f"No warehouse has the code {code!r}.")
        self.code = code


class BelowReserved(ValueError):
    """On hand cannot go below what is reserved in the warehouse (``reserved``)."""

    def __init__(self, *, sku: str, warehouse: str, on_hand: int, reserved: int):
        self.sku, self.warehouse, self.on_hand, self.reserved = sku, warehouse, on_hand, reserved
        super().__init__(
            f"{sku} in {warehouse}: on hand cannot be {on_hand}, {reserved} are reserved "
            "(reserved stock cannot vanish; release the reservations first)."
        )
