"""
Values from outside the shop, quoted in messages for people (import reports, validation errors).

A message that echoes what it refuses helps whoever fixes the file, but the value may be huge:
a price import whose rejected rows each quoted a 120 KB amount made a 44 MB report. ``echo``
quotes at most ``ECHO_CHARS`` characters of a value; ``shorten`` bounds a whole message,
keeping its start and its end (where the reason usually is).
"""

from typing import Any

ECHO_CHARS = 100
ELLIPSIS = "…"


def echo(value: Any, limit: int = ECHO_CHARS) -> str:
    """
    ``repr(value)`` for a message, cut to ``limit`` characters of the value with an ellipsis
    and the full length: ``'12345…' (120,000 characters)``.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit] + ELLIPSIS!r} ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and end around an ellipsis."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    head = limit - tail - len(ELLIPSIS)
    return f"{text[:head]}{ELLIPSIS}{text[len(text) - tail :]}"
