"""
Traces (shop/telemetry.py): off unless the standard OTEL_* variables ask, and then nothing of
OpenTelemetry is imported or installed; on, a request and the Celery tasks it causes are one
trace, whose id the log records of both carry.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shop import telemetry

ROOT = Path(__file__).resolve().parents[2]

# What a web process and a worker process do at start, then what is installed.
PROCESS_SCRIPT = """
import sys
import django
django.setup()
import shop.wsgi  # runserver's process sets tracing up here
from celery import signals
from shop.celery import app
signals.worker_process_init.send(sender=None)  # a prefork child of a worker
from django.conf import settings
import psycopg
import integrations.erp_client
print("otel imported:", sorted({m.split(".")[1] for m in sys.modules if m.startswith("opentelemetry.")}))
print("middleware:", any("opentelemetry" in name for name in settings.MIDDLEWARE))
print("psycopg wrapped:", hasattr(psycopg.connect, "__wrapped__"))
"""


def run_process(**env: str) -> str:
    return run_process_script(PROCESS_SCRIPT, **env)


def run_process_script(script: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **{key: value for key, value in os.environ.items() if not key.startswith("OTEL_")},
            "DJANGO_SETTINGS_MODULE": "shop.settings.base",
            "ENV_FILE": "",
            "DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "shop"}, False),  # naming a service asks for nothing
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, False),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "console"}, True),
    ],
)
def test_the_standard_variables_switch_tracing(environ, expected):
    assert telemetry.enabled(environ) is expected


def test_off_by_default_nothing_is_imported_nor_installed():
    output = run_process()

    assert "otel imported: []" in output
    assert "middleware: False" in output
    assert "psycopg wrapped: False" in output


def test_on_django_celery_and_psycopg_are_instrumented():
    """The same script with a console exporter: what the check above would miss is there."""
    output = run_process(OTEL_TRACES_EXPORTER="console")

    assert "'instrumentation'" in output and "'sdk'" in output
    assert "middleware: True" in output
    assert "psycopg wrapped: True" in output


def test_sdk_disabled_wins():
    output = run_process(OTEL_TRACES_EXPORTER="console", OTEL_SDK_DISABLED="true")

    assert "otel imported: []" in output


# Two requests publish an event each; a worker handles both in one message of the relay's.
EVENTS_SCRIPT = """
import json
import django
django.setup()
from shop import telemetry
from shop.kernel import logcontext, tracing
from shop.kernel.subscribers import consume_batch
print("on:", telemetry.setup("worker"))
from opentelemetry import trace
tracer = trace.get_tracer("test")
published = {}
for name in ("a", "b"):
    with tracer.start_as_current_span(f"request {name}"):
        published[name] = (tracing.traceparent(), logcontext.current_trace_ids()[0])
with tracer.start_as_current_span("the relay's task"):
    relay_trace = logcontext.current_trace_ids()[0]
    with tracing.within(published["a"][0]):  # how a message of one event is sent
        sent_in = logcontext.current_trace_ids()[0]
    seen = {}
    envelopes = [{"id": name, "traceparent": published[name][0]} for name in ("a", "b")]
    envelopes.append({"id": "c", "traceparent": ""})  # published outside a trace
    def consume(envelope):
        seen[envelope["id"]] = logcontext.current_trace_ids()[0]
        return True
    consume_batch(envelopes, consume, consumer="tests.consumer")
    after = logcontext.current_trace_ids()[0]
print("result:", json.dumps({
    "published": {name: trace_id for name, (_, trace_id) in published.items()},
    "traceparents": {name: parent for name, (parent, _) in published.items()},
    "relay": relay_trace, "sent_in": sent_in, "seen": seen, "after": after,
}))
"""


def test_an_event_keeps_the_trace_of_the_request_that_published_it_in_a_message_of_several():
    output = run_process_script(EVENTS_SCRIPT, OTEL_TRACES_EXPORTER="console")

    assert "on: True" in output
    [line] = [line for line in output.splitlines() if line.startswith("result: ")]
    result = json.loads(line.removeprefix("result: "))
    published = result["published"]
    assert published["a"] != published["b"]
    assert all(parent.startswith(f"00-{published[name]}-") for name, parent in result["traceparents"].items())
    assert result["sent_in"] == published["a"]  # a message of one goes in its event's trace
    # Each event of the batch is handled in a span of its publisher's trace; one published
    # outside a trace in the task's own; the task's trace is current again afterwards.
    assert result["seen"] == {"a": published["a"], "b": published["b"], "c": result["relay"]}
    assert result["after"] == result["relay"]
    spans = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    handled = [span for span in spans if span["name"] == "handle/tests.consumer"]
    assert sorted(span["context"]["trace_id"] for span in handled) == sorted(
        f"0x{published[name]}" for name in ("a", "b")
    )
    assert all(span["kind"] == "SpanKind.CONSUMER" for span in handled)
