"""
Money: a Decimal amount with a currency, never a float; rounding is explicit.

Currencies and their minor units come from ISO 4217's own list (the ``iso4217`` package, whose
version is the list's publication date), not from a table kept here: a code is a currency the
shop accepts if that list gives it minor units (the funds and metals without any, such as XAU or
XDR, are not prices). Amounts are stored with ``MONEY_DECIMAL_PLACES`` places, ISO 4217's largest
number of minor units, so that no accepted amount is rounded by the database; an amount with
more places than its currency has is refused where it enters (``exact_amount``), never rounded.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from iso4217 import Currency as _Iso4217

_MINOR_UNITS: dict[str, int] = {
    currency.code: currency.exponent for currency in _Iso4217 if currency.exponent is not None
}
_NAMES: dict[str, str] = {currency.code: currency.currency_name for currency in _Iso4217}

#: The scale of every money column: ISO 4217's largest number of minor units (CLF, UYW).
MONEY_DECIMAL_PLACES = max(_MINOR_UNITS.values())
#: The precision of every money column: numeric(19, 4), 15 digits before the point.
MONEY_MAX_DIGITS = 19
#: The most digits a price may have before the point. With four decimals that is 14 significant
#: digits, which even SQLite's floating-point storage of a decimal holds exactly; the 5 digits
#: left in the column take an order's sums (lines times quantities) without overflow.
PRICE_MAX_WHOLE_DIGITS = 10


def minor_units(currency: str) -> int:
    """
    Return the number of decimal places of ``currency`` (ISO 4217's minor units).

    Raises:
        ValueError: ``currency`` is not an ISO 4217 currency with minor units.
    """
    try:
        return _MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise ValueError(f"Not an ISO 4217 currency code: {currency!r}") from None


def is_currency_code(value: object) -> bool:
    """Return True for a current ISO 4217 currency code with minor units (``EUR``, ``BHD``)."""
    return isinstance(value, str) and value in _MINOR_UNITS


def currency_choices() -> list[tuple[str, str]]:
    """The currencies as ``(code, "code - name")`` choices, by code: for model fields and forms."""
    return [(code, f"{code} - {_NAMES[code]}") for code in sorted(_MINOR_UNITS)]


def validate_currency_code(value: str) -> None:
    """A model field validator: ``value`` must be an ISO 4217 currency code with minor units."""
    if not is_currency_code(value):
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code (e.g. EUR).", code="invalid", params={"value": value}
        )


def clean_amount(instance) -> None:
    """
    For a model's ``clean()``: write its ``amount`` with exactly the minor units of its
    ``currency``, or refuse it where that would round it. An amount that is not a decimal yet, or
    an unknown currency, is left to the fields' own validation.

    Raises:
        django.core.exceptions.ValidationError: on ``amount``, saying why.
    """
    if isinstance(instance.amount, Decimal) and is_currency_code(instance.currency):
        try:
            instance.amount = exact_amount(instance.amount, instance.currency)
        except ValueError as exc:
            raise ValidationError({"amount": str(exc)}) from None


def exact_amount(amount: Decimal, currency: str) -> Decimal:
    """
    Return ``amount`` written with exactly the minor units of ``currency`` (``1.5`` BHD is
    ``1.500``), without rounding.

    Raises:
        ValueError: ``currency`` is not an ISO 4217 currency, ``amount`` not a finite decimal, or
            it has more decimal places than the currency's minor units; the message says which.
    """
    places = minor_units(currency)
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"Not a finite decimal amount: {amount!r}")
    quantum = Decimal(1).scaleb(-places)
    try:
        exact = amount.quantize(quantum)
    except InvalidOperation:  # more digits than the context's precision: far too large anyway
        exact = None
    if exact is None or exact != amount:
        unit = "no decimal places" if places == 0 else f"at most {places} decimal place{'s' * (places > 1)}"
        raise ValueError(f"An amount in {currency} has {unit}: {amount} would have to be rounded.")
    return exact


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
        """
        Return the API's wire form, the amount with the currency's minor units:
        ``{"amount": "19.99", "currency": "EUR"}``, ``{"amount": "1.500", "currency": "BHD"}``.
        """
        return {"amount": f"{self.amount:f}", "currency": self.currency}
