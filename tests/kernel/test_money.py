"""Money and ISO 4217: every currency's minor units, from the standard's own list."""

from decimal import Decimal

import pytest

from shop.kernel.money import (
    MONEY_DECIMAL_PLACES,
    Money,
    currency_choices,
    exact_amount,
    is_currency_code,
    minor_units,
)


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("JPY", 0),
        ("VND", 0),
        ("XOF", 0),
        ("XAF", 0),
        ("UGX", 0),
        ("IQD", 3),
        ("LYD", 3),
        ("BHD", 3),
        ("KWD", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_minor_units_are_iso_4217s(currency, places):
    assert minor_units(currency) == places
    assert is_currency_code(currency)


@pytest.mark.parametrize("code", ["XYZ", "eur", "EURO", "", "XAU", "XXX", "XTS", None, 978])
def test_what_is_not_a_currency_of_prices(code):
    # XAU (gold), XXX (no currency) and XTS (testing) are ISO 4217 codes without minor units.
    assert not is_currency_code(code)
    with pytest.raises(ValueError, match="ISO 4217"):
        minor_units(code)
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), code)


def test_the_money_columns_hold_the_most_minor_units_of_any_currency():
    assert max(minor_units(code) for code, _ in currency_choices()) == MONEY_DECIMAL_PLACES == 4


def test_the_wire_form_has_the_currencys_minor_units():
    assert Money(Decimal("19.99"), "EUR").as_dict() == {"amount": "19.99", "currency": "EUR"}
    assert Money(Decimal("19.9900"), "EUR").as_dict() == {"amount": "19.99", "currency": "EUR"}
    assert Money(Decimal("1.5"), "BHD").as_dict() == {"amount": "1.500", "currency": "BHD"}
    assert Money(Decimal("1.2340"), "KWD").as_dict() == {"amount": "1.234", "currency": "KWD"}
    assert Money(Decimal("2980.0000"), "JPY").as_dict() == {"amount": "2980", "currency": "JPY"}
    assert Money(Decimal("25000"), "VND").as_dict() == {"amount": "25000", "currency": "VND"}
    assert Money(Decimal("1.2345"), "CLF").as_dict() == {"amount": "1.2345", "currency": "CLF"}


def test_an_exact_amount_is_never_rounded():
    assert str(exact_amount(Decimal("1.5"), "BHD")) == "1.500"
    assert str(exact_amount(Decimal("19.9900"), "EUR")) == "19.99"
    with pytest.raises(ValueError, match=r"at most 2 decimal places: 1\.234 would have to be rounded"):
        exact_amount(Decimal("1.234"), "EUR")
    with pytest.raises(ValueError, match="no decimal places"):
        exact_amount(Decimal("100.5"), "VND")
    with pytest.raises(ValueError, match="at most 3 decimal places"):
        exact_amount(Decimal("1.2345"), "IQD")
    with pytest.raises(ValueError, match="finite"):
        exact_amount(Decimal("NaN"), "EUR")
