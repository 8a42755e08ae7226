"""CSV that the shop writes, safe from spreadsheet formulas (issue 8, item 6; OWASP CSV injection)."""

import csv
import io
from decimal import Decimal

import pytest

from shop.kernel import csv_writer


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")'])
def test_a_cell_a_spreadsheet_would_run_gets_a_single_quote(cell):
    out = io.StringIO()
    csv_writer.writer(out, lineterminator="\n").writerow([cell, "plain", 3, Decimal("-1.50")])

    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'" + cell, "plain", "3", "-1.50"]


def test_other_cells_are_written_as_csv_writes_them():
    rows = [["a,b", 'say "hi"', "", "x=1", "1-2"], ["SKU-1", "Lamp (Small)", "19.99", "EUR", "in stock"]]
    safe, plain = io.StringIO(), io.StringIO()
    csv_writer.writer(safe).writerows(rows)
    csv.writer(plain).writerows(rows)
    assert safe.getvalue() == plain.getvalue()


def test_a_carriage_return_in_a_cell_is_quoted_with_a_newline_terminator():
    out = io.StringIO()
    csv_writer.writer(out, lineterminator="\n").writerows([["a\rb", "c"], ["d", "e"]])

    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["a\rb", "c"], ["d", "e"]]
