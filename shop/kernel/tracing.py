"""
What the kernel asks of tracing, where no OpenTelemetry instrumentation sees it:

- ``client_span``: a span around an outgoing HTTP call (the ERP client speaks ``http.client``
  directly), the trace context put into its headers so that the far side can join the trace;
- ``traceparent``: the current trace context as a W3C ``traceparent``, which an outbox row keeps
  (``shop.kernel.events``), so that the event's subscribers continue the trace of the request
  that published it, not that of whichever request happened to trigger the relay;
- ``within``: that context made current again (the relay sends a message of one event in it, and
  Celery's instrumentation carries it to the task), and ``continued``: a span of its own in it
  (each event of a message of several, ``shop.kernel.subscribers.consume_batch``).

With tracing off (the default, ``shop.telemetry``) all of them do nothing and nothing of
OpenTelemetry is imported; ``shop.telemetry.setup`` sets the hooks below when it turns tracing on.
"""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

#: Set by ``shop.telemetry`` when tracing is on: a context manager factory with the signature of
#: ``client_span`` that yields a function taking the answer's status code.
start_client_span: Callable[..., contextlib.AbstractContextManager] | None = None
#: Set by ``shop.telemetry``: the current span's context as a ``traceparent`` ("" without one).
current_traceparent: Callable[[], str] | None = None
#: Set by ``shop.telemetry``: ``attach(traceparent)`` makes it the current context while it is open.
attach_traceparent: Callable[[str], contextlib.AbstractContextManager] | None = None
#: Set by ``shop.telemetry``: ``start_span_in(traceparent, name)``, a current span in that trace.
start_span_in: Callable[[str, str], contextlib.AbstractContextManager] | None = None


def active() -> bool:
    """Whether tracing is on in this process (``shop.telemetry`` set the hooks)."""
    return current_traceparent is not None


def _ignore(status: int | None = None) -> None:
    return None


@contextlib.contextmanager
def client_span(name: str, *, method: str, url: str, headers: dict[str, str]) -> Iterator[Callable[..., Any]]:
    """
    A client span named ``name`` around an HTTP call of ``method`` to ``url``, the trace context
    added to ``headers`` (``traceparent``); yields ``record(status)`` for the answer's status
    code. An exception leaving the block marks the span failed.
    """
    if start_client_span is None:
        yield _ignore
        return
    with start_client_span(name, method=method, url=url, headers=headers) as record:
        yield record


def traceparent() -> str:
    """The current trace context as a W3C ``traceparent``; "" with tracing off or outside a span."""
    return current_traceparent() if current_traceparent is not None else ""


@contextlib.contextmanager
def within(traceparent: str) -> Iterator[None]:
    """Make the trace context ``traceparent`` (if any) current while the block runs."""
    if not traceparent or attach_traceparent is None:
        yield
        return
    with attach_traceparent(traceparent):
        yield


@contextlib.contextmanager
def continued(traceparent: str, name: str) -> Iterator[None]:
    """A span ``name``, current while the block runs, in the trace ``traceparent`` (if any)."""
    if not traceparent or start_span_in is None:
        yield
        return
    with start_span_in(traceparent, name):
        yield
