"""
Traces with OpenTelemetry (README, "Logs and traces"): Django's requests, Celery's tasks (sent and
run, one trace across the broker), psycopg's statements and the ERP client's calls
(``shop.kernel.tracing``), exported over OTLP/HTTP or printed.

Off by default, and then free: nothing of OpenTelemetry is imported, no middleware is added, no
function is wrapped. The standard variables turn it on (``enabled``): ``OTEL_EXPORTER_OTLP_ENDPOINT``
(or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) exports to that collector, ``OTEL_TRACES_EXPORTER``
chooses the exporters (``otlp``, ``console``: one JSON line a span on standard output; ``none``
leaves tracing off), ``OTEL_SDK_DISABLED=true`` keeps it off whatever else is set. The SDK reads
the rest itself: ``OTEL_SERVICE_NAME`` (default ``shop-web``, ``shop-worker``, ``shop-beat``),
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``, ``OTEL_EXPORTER_OTLP_HEADERS``, ...

Each process sets it up after it forked, as the SDK's exporter threads and the database
connections do not survive a fork: gunicorn's ``post_fork`` (``gunicorn.conf.py``), Celery's
``worker_process_init`` (prefork) and ``worker_ready`` (solo), ``beat_init`` (``connect_celery``);
runserver's process in ``shop.wsgi``. With tracing on, each log record carries ``trace_id`` and
``span_id`` (``shop.kernel.logcontext``).
"""

import contextlib
import logging
import os
import sys
from collections.abc import Mapping

from shop.kernel.log_redaction import redact

logger = logging.getLogger(__name__)

_active = False


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` variables of ``environ`` ask for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = _exporter_names(environ)
    if exporters is not None:
        return bool(exporters)
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def active() -> bool:
    """Whether this process traces (``setup`` turned it on)."""
    return _active


def _exporter_names(environ: Mapping[str, str]) -> list[str] | None:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (``none`` for none), or None when it is unset."""
    value = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not value:
        return None
    return [name.strip() for name in value.split(",") if name.strip() and name.strip() != "none"]


def setup(process: str) -> bool:
    """
    Turn tracing on in this process (``process``: ``web``, ``worker`` or ``beat``, the default
    service name's suffix) if ``enabled``; once per process. Returns whether it is on.
    """
    global _active
    if _active or not enabled():
        return _active
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": f"shop-{process}"}
    provider = TracerProvider(resource=Resource.create(attributes))
    for processor in _span_processors():
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)

    DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=_redact_request_span)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)

    from shop.kernel import logcontext, tracing

    logcontext.current_trace_ids = _current_trace_ids
    tracing.start_client_span = _client_span(trace.get_tracer("shop.http.client", tracer_provider=provider))
    tracing.current_traceparent = _current_traceparent
    tracing.attach_traceparent = _attach_traceparent
    tracing.start_span_in = _span_in(trace.get_tracer("shop.events", tracer_provider=provider))
    _active = True
    logger.info("Tracing on: %s spans of %s.", ", ".join(_exporter_names(os.environ) or ["otlp"]), process)
    return True


def _span_processors() -> list:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    processors = []
    for name in _exporter_names(os.environ) or ["otlp"]:
        if name == "otlp":
            protocol = os.environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
            )
            if protocol and protocol != "http/protobuf":
                logger.warning("OTLP protocol %r is not installed; the shop exports http/protobuf.", protocol)
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processors.append(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            # One JSON line a span, at once, on the process's real standard output (a Celery
            # worker's sys.stdout is a proxy into its log): for development and tests.
            exporter = ConsoleSpanExporter(
                out=sys.__stdout__, formatter=lambda span: span.to_json(indent=None) + "\n"
            )
            processors.append(SimpleSpanProcessor(exporter))
        else:
            logger.warning(
                "OTEL_TRACES_EXPORTER names %r, which the shop does not have (otlp, console).", name
            )
    return processors


def _redact_request_span(span, request) -> None:
    """The request span's URL attributes without token parameters (a guest's ``?token=``)."""
    if not span.is_recording():
        return
    for key, value in dict(getattr(span, "attributes", None) or {}).items():
        if isinstance(value, str) and "token=" in value.lower():
            span.set_attribute(key, redact(value))


def _current_trace_ids() -> tuple[str, str] | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _current_traceparent() -> str:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent", "")


def _context_of(traceparent: str):
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


@contextlib.contextmanager
def _attach_traceparent(traceparent: str):
    from opentelemetry import context

    token = context.attach(_context_of(traceparent))
    try:
        yield
    finally:
        context.detach(token)


def _span_in(tracer):
    from opentelemetry.trace import SpanKind

    @contextlib.contextmanager
    def start(traceparent: str, name: str):
        with tracer.start_as_current_span(name, context=_context_of(traceparent), kind=SpanKind.CONSUMER):
            yield

    return start


def _client_span(tracer):
    from opentelemetry.propagate import inject
    from opentelemetry.trace import SpanKind, Status, StatusCode

    @contextlib.contextmanager
    def start(name: str, *, method: str, url: str, headers: dict[str, str]):
        attributes = {"http.request.method": method, "url.full": url}
        with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
            inject(headers)

            def record(status: int | None = None) -> None:
                if status is not None:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 400:
                        span.set_status(Status(StatusCode.ERROR))

            yield record

    return start


def connect_celery() -> None:
    """Set tracing up in Celery's processes once they forked: connected by ``shop.celery``."""
    from celery import signals

    def set_up_worker(**_) -> None:
        setup("worker")

    def set_up_beat(**_) -> None:
        setup("beat")

    # worker_process_init: each prefork child; worker_ready: the solo pool's one process (in a
    # prefork parent it traces nothing, and its later forks find it set up).
    signals.worker_process_init.connect(set_up_worker, weak=False, dispatch_uid="shop.telemetry.child")
    signals.worker_ready.connect(set_up_worker, weak=False, dispatch_uid="shop.telemetry.worker")
    signals.beat_init.connect(set_up_beat, weak=False, dispatch_uid="shop.telemetry.beat")


def instrument_loaded_handler(application) -> None:
    """
    With tracing on, rebuild the middleware of ``application`` (Django's WSGI handler), which the
    gunicorn master loaded before the fork, so that it holds the instrumentation's middleware.
    """
    if _active and hasattr(application, "load_middleware"):
        application.load_middleware()
