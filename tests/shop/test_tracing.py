"""
Traces (shop/telemetry.py): off unless the standard OTEL_* variables ask, and then nothing of
OpenTelemetry is imported or installed; on, a request and the Celery tasks it causes are one
trace, whose id the log records of both carry.
"""

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
    result = subprocess.run(
        [sys.executable, "-c", PROCESS_SCRIPT],
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
