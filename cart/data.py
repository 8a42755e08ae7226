"""Data that crosses the cart's border: frozen dataclasses of stdlib types."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class CartLineData:
    """A SKU and its quantity (1..100). Prices are the catalog's business, asked at the time."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class CartData:
    """A cart as checkout reads it: its token, its owner (None: anonymous) and its lines."""

    token: uuid.UUID
    customer_id: int | None
    lines: tuple[CartLineData, ...]
