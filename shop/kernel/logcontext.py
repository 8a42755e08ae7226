"""
The log context: what every log record of a request, and of the Celery tasks it causes, carries
(``request_id``, ``order_number``; ``trace_id`` and ``span_id`` when tracing is on).

The values live in context variables, so that a thread (runserver, a gunicorn worker) or a task
sees its own. ``RequestIdMiddleware`` (``shop.kernel.http.middleware``) binds the request id at the
start of each request; ``shop.logs`` carries it in a header of every task sent meanwhile and binds
it again in the worker before the task runs. Code that knows the order it works on says so with
``bind(order_number=...)``: checkout's completion, the ERP hand-over's tasks.

``ContextFilter`` copies the values onto each record (``record.request_id``, ...), where a
formatter prints them; it reads context variables only, so it costs about a microsecond a record
and no I/O.
"""

import contextvars
import logging
import os
import re
from collections.abc import Callable

#: An incoming ``X-Request-ID`` is taken as it is when it matches this (a proxy's or a load
#: balancer's id: UUIDs, hex, base64url, dotted or colon-separated); anything else, longer or
#: empty, gets a new id, so that a client cannot put line breaks, markup or a megabyte into logs.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
ORDER_NUMBER: contextvars.ContextVar[str | None] = contextvars.ContextVar("order_number", default=None)

#: Set by ``shop.telemetry`` when tracing is on: returns ``(trace_id, span_id)`` of the current span
#: as hex, or None. Left None when tracing is off, so that nothing of OpenTelemetry is imported.
current_trace_ids: Callable[[], tuple[str, str] | None] | None = None


def new_request_id() -> str:
    """A new request id: 32 hex digits (128 random bits)."""
    return os.urandom(16).hex()


def valid_request_id(value: str | None) -> str | None:
    """``value`` if it may serve as a request id as it is (``REQUEST_ID_PATTERN``), else None."""
    if value and len(value) <= 128 and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


def bind(*, order_number: str | None) -> None:
    """
    Put ``order_number`` in the log context of the current request or task, until the next one
    starts (the middleware and the worker's task start clear it).
    """
    ORDER_NUMBER.set(order_number)


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``order_number`` (and with tracing ``trace_id``, ``span_id``) to a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.order_number = ORDER_NUMBER.get()
        ids = current_trace_ids() if current_trace_ids is not None else None
        record.trace_id, record.span_id = ids or (None, None)
        return True
