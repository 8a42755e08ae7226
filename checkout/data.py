"""Data that crosses checkout's border."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OrderSummary:
    """What integrations need of an order (the ERP hand-over marks it handed over)."""

    number: str
    status: str
    erp_reference: str
