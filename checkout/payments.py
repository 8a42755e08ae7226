"""
The payment gateway interface and the sandbox gateway.

Checkout charges through ``get_gateway()``, outside any database lock. A real provider implements
``PaymentGateway`` (with its own HTTP timeouts) and is named in ``PAYMENT_GATEWAY``.
"""

import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from checkout.errors import PaymentDeclined, PaymentTimeout  # what a gateway raises
from shop.kernel.money import Money


@dataclass(frozen=True)
class Charge:
    reference: str


class PaymentGateway(Protocol):
    def charge(self, *, amount: Money, token: str, idempotency_key: str) -> Charge:
        """Charge ``amount``; raises PaymentDeclined or PaymentTimeout."""

    def refund(self, *, reference: str, amount: Money) -> None:
        """Give back a charge (an order canceled after payment, or stock lost after payment)."""


class SandboxGateway:
    """
    Answers by token: ``tok_success`` pays, ``tok_timeout`` times out, ``tok_decline`` (and any
    other token) is declined.
    """

    def charge(self, *, amount: Money, token: str, idempotency_key: str) -> Charge:
        if token == "tok_success":  # noqa: S105 - a sandbox test token, not a secret
            return Charge(reference=f"sandbox_{uuid.uuid4().hex[:16]}")
        if token == "tok_timeout":  # noqa: S105
            raise PaymentTimeout("The sandbox gateway timed out.")
        raise PaymentDeclined("The sandbox gateway declined the payment.")

    def refund(self, *, reference: str, amount: Money) -> None:
        return None


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
