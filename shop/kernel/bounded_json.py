"""
JSON from outside the shop (request bodies, import feeds, cursors), read with bounds.

The standard library's decoder recurses once per level of nesting: a few kilobytes of ``[``
exhaust the interpreter's stack (``RecursionError``), which no ``except ValueError`` catches.
``loads`` therefore measures the nesting depth first, with regular expressions and C-level
built-ins that do not recurse, and refuses a document nested deeper than ``max_depth`` (or
longer than ``max_chars``) before the decoder sees it. It also refuses a string holding a NUL
character (``\\u0000``): PostgreSQL's ``text`` and ``jsonb`` cannot store one, so such a value
would fail at the database instead of at the border.

Every refusal is a ``ValueError`` (as ``json.JSONDecodeError`` is), so a caller that already
reports undecodable JSON reports these too.
"""

import json
import re
from itertools import accumulate
from typing import Any

DEFAULT_MAX_DEPTH = 32

# A JSON string literal (escapes included), matched without backtracking ("unrolled loop").
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Everything but brackets, to be deleted before the depth is summed.
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# The escape of a NUL, preceded by an even number of backslashes (``\\u0000`` is the text "\u0000").
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class JSONRefused(ValueError):
    """JSON that is refused before it is decoded; ``code`` is the API's problem code for it."""

    code = "invalid"


class JSONTooDeep(JSONRefused):
    """Nested deeper than allowed."""


class JSONTooLarge(JSONRefused):
    """Longer than allowed."""

    code = "too_large"


class JSONHasNul(JSONRefused):
    """A string (or key) holds a NUL character."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in the JSON ``text`` (0 for a scalar)."""
    if text.count("[") + text.count("{") <= 1:
        return int("[" in text or "{" in text)
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH, max_chars: int | None = None) -> None:
    """
    Refuse ``text`` if it may not be decoded: see ``loads``.

    Raises:
        JSONTooLarge: longer than ``max_chars``.
        JSONTooDeep: arrays and objects nested deeper than ``max_depth``.
        JSONHasNul: a string or key holds ``\\u0000``.
    """
    if max_chars is not None and len(text) > max_chars:
        raise JSONTooLarge(f"The JSON is longer than {max_chars:,} characters.")
    # Cheap first: a document cannot be deeper than it has opening brackets.
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise JSONTooDeep(f"The JSON is nested deeper than {max_depth} levels.")
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise JSONHasNul("The JSON holds a NUL character (\\u0000), which text cannot hold.")


def loads(
    text: str | bytes,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_chars: int | None = None,
    **kwargs: Any,
) -> Any:
    """
    ``json.loads(text, **kwargs)`` after ``check``: never recurses deeper than ``max_depth``.

    Raises:
        JSONRefused: see ``check``.
        ValueError: not JSON (``json.JSONDecodeError``, or bytes that are not UTF-8).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8-sig")
    check(text, max_depth=max_depth, max_chars=max_chars)
    return json.loads(text, **kwargs)
