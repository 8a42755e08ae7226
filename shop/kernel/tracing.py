"""
Spans of outgoing HTTP calls that no OpenTelemetry instrumentation sees (the ERP client speaks
``http.client`` directly): ``client_span`` around the call, the trace context put into its
headers so that the far side can join the trace.

With tracing off (the default, ``shop.telemetry``) ``client_span`` does nothing and nothing of
OpenTelemetry is imported; ``shop.telemetry.setup`` sets ``start_client_span`` when it turns
tracing on.
"""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

#: Set by ``shop.telemetry`` when tracing is on: a context manager factory with the signature of
#: ``client_span`` that yields a function taking the answer's status code.
start_client_span: Callable[..., contextlib.AbstractContextManager] | None = None


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
