"""Quoting outside values in messages for people (issue 8, item 8): cut, never whole."""

from shop.kernel.text import echo, shorten


def test_echo_quotes_short_values_as_repr_and_cuts_long_ones():
    assert echo("12.50") == "'12.50'"
    assert echo(None) == "None"
    assert echo("1" * 120_000) == "'" + "1" * 100 + "…' (120,000 characters)"
    assert echo(list(range(100_000))).endswith("…") and len(echo(list(range(100_000)))) == 101


def test_shorten_keeps_the_start_and_the_end():
    message = "Amount '" + "9" * 120_000 + "' is too large."
    short = shorten(message, 300)
    assert len(short) == 300
    assert short.startswith("Amount '999") and short.endswith("' is too large.") and "…" in short
    assert shorten("short", 300) == "short"
