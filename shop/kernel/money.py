"""Money: a Decimal amount with a currency, never a float; rounding is explicit."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor units for the currencies whose exponent is not 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}
MAX_DIGITS = 12


def minor_units(currency: str) -> int:
    """Return the number of decimal places of ``currency`` (ISO 4217)."""
    return _MINOR_UNITS.get(currency, 2)


def is_currency_code(value: str) -> bool:
    """Return True for a well-formed ISO 4217 code (three upper-case letters)."""
    return len(value) == 3 and value.isascii() and value.isalpha() and value.isupper()


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency, rounded half-up to the currency's minor unit on creation."""

    amount: Decimal
    currency: str

    def __post_init__(self):
        if not is_currency_code(self.currency):
            raise ValueError(f"Not an ISO 4217 currency code: {self.currency!r}")
        try:
            amount = Decimal(self.amount)
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"Not a decimal amount: {self.amount!r}") from exc
        if not amount.is_finite():
            raise ValueError(f"Not a finite amount: {self.amount!r}")
        quantum = Decimal(1).scaleb(-minor_units(self.currency))
        object.__setattr__(self, "amount", amount.quantize(quantum, rounding=ROUND_HALF_UP))

    def __add__(self, other: "Money") -> "Money":
        self._check_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __mul__(self, quantity: int) -> "Money":
        return Money(self.amount * quantity, self.currency)

    def _check_same_currency(self, other: "Money") -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError("Money of different currencies cannot be combined.")

    def as_dict(self) -> dict[str, str]:
        """Return the wire form of API.md: ``{"amount": "19.99", "currency": "EUR"}``."""
        return {"amount": str(self.amount), "currency": self.currency}
