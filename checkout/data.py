"""Data that crosses checkout's border."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OrderSummary:
    """What integrations need of an order (the ERP hand-over marks it handed over)."""

    number: str
    status: str
    erp_reference: str


@dataclass(frozen=True)
class CheckoutActivity:
    """
    What the database knows of purchases since ``since`` (the operations page's last hour):

    - ``orders_by_status``: orders placed since then, by their status now (``paid``,
      ``handed_over``, ``canceled``, ...); ``orders_placed`` their sum;
    - ``checkouts_by_outcome``: checkouts started since then, by where they are now:
      ``completed`` (an order), ``completing`` (payment running), ``open`` (stock still reserved),
      ``expired`` (open, but the reservation ran out: given up before paying), ``abandoned``
      (replaced by a newer checkout of the same cart); ``checkouts_started`` their sum.
    """

    since: datetime
    orders_placed: int
    orders_by_status: dict[str, int]
    checkouts_started: int
    checkouts_by_outcome: dict[str, int]
