"""
The shop's logs (shop/logs.py): JSON lines or console lines chosen by LOG_FORMAT, each record
printed once, the request id (X-Request-ID) in every record of a request, housekeeping's routine
lines kept out of an idle log.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from shop import logs
from shop.kernel import logcontext
from shop.kernel.events import publish
from shop.kernel.models import OutboxMessage, QueueHeartbeat
from shop.settings import SettingsError
from tests.celery_worker import json_records, wait_for
from tests.kernel.subscriber_tasks import OutboxProbe
from tests.log_capture import captured_logs

ROOT = Path(__file__).resolve().parents[2]

# A process that logs as the shop's processes do: Django's loggers (one of them Django's own
# `django` logger's child, which DEBUG printed twice), a context bound, an exception.
LOGGING_SCRIPT = """
import logging
import django
django.setup()
from shop.kernel import logcontext
logcontext.REQUEST_ID.set("req-42")
logcontext.bind(order_number="2026-000042")
logging.getLogger("django.security.csrf").warning("Forbidden (CSRF cookie not set.): /x/")
logging.getLogger("django.request").warning("Not Found: %s", "/api/v1/orders/1/?token=s3cr3t")
logging.getLogger("shop.anything").info("Hello %s", "world")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("shop.anything").exception("It broke")
"""


def run_logging_script(**env: str) -> str:
    """The standard error of ``LOGGING_SCRIPT`` run with the settings of ``env``."""
    result = subprocess.run(
        [sys.executable, "-c", LOGGING_SCRIPT],
        cwd=ROOT,
        env={
            **{key: value for key, value in os.environ.items() if not key.startswith(("LOG_", "OTEL_"))},
            "DJANGO_SETTINGS_MODULE": "shop.settings.base",
            "ENV_FILE": "",
            "SECRET_KEY": "x" * 50,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_json_lines_parse_with_the_expected_keys():
    lines = run_logging_script(DEBUG="false").splitlines()

    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert [record["message"] for record in records] == [
        "Forbidden (CSRF cookie not set.): /x/",
        "Not Found: /api/v1/orders/1/?token=[redacted]",
        "Hello world",
        "It broke",
    ]
    for record in records:
        assert {"timestamp", "level", "logger", "message", "request_id", "order_number"} <= record.keys()
        assert (record["request_id"], record["order_number"]) == ("req-42", "2026-000042")
        assert record["timestamp"].endswith("Z")
    assert [record["level"] for record in records] == ["WARNING", "WARNING", "INFO", "ERROR"]
    assert records[3]["logger"] == "shop.anything"
    assert "ZeroDivisionError: division by zero" in records[3]["exc_info"]
    assert "trace_id" not in records[0]  # tracing off: no empty keys


@pytest.mark.parametrize("debug", ["true", "false"])
def test_each_record_is_printed_once(debug):
    """With DEBUG on Django's own `django` handler used to print each of its warnings a second time."""
    output = run_logging_script(DEBUG=debug)

    assert output.count("Forbidden (CSRF cookie not set.)") == 1, output
    assert output.count("Not Found: /api/v1/orders/1/") == 1, output
    assert output.count("Hello world") == 1, output


def test_console_lines_are_readable_with_the_context_at_their_end():
    lines = run_logging_script(DEBUG="true").splitlines()  # console: the default with DEBUG

    assert lines[2].endswith("INFO    shop.anything Hello world [request_id=req-42 order_number=2026-000042]")
    assert not lines[2].startswith("{")
    assert "s3cr3t" not in "\n".join(lines)
    assert "ZeroDivisionError: division by zero" in lines[-1]


def test_log_format_overrides_the_default_and_a_wrong_one_stops_the_start():
    assert run_logging_script(DEBUG="true", LOG_FORMAT="json").startswith("{")
    assert not run_logging_script(DEBUG="false", LOG_FORMAT="console").startswith("{")
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        logs.log_format("xml", debug=False)


@pytest.mark.django_db
def test_a_request_id_is_taken_from_x_request_id_or_made_and_answered():
    client = APIClient()
    given = "3f2a9c1e-7b4d-4e8a-9c2f-1d6e5b4a3c21"

    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    made = {client.get("/healthz")["X-Request-ID"] for _ in range(2)}
    assert len(made) == 2 and all(len(value) == 32 and int(value, 16) >= 0 for value in made)
    for bad in ("", "x" * 129, "two words", "line\nbreak", "<script>", "-leading-dash", "ä"):
        answered = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert answered != bad and len(answered) == 32


@pytest.mark.django_db
def test_every_record_of_a_request_carries_its_id_and_none_outlives_it():
    with captured_logs() as lines:
        response = APIClient().get("/api/v1/orders/2026-000001/", HTTP_X_REQUEST_ID="req-404")
        logging.getLogger("shop.after").warning("After the request")

    assert response.status_code == 404
    json_lines = [json.loads(line) for line in lines if line.startswith("{")]
    [not_found] = [record for record in json_lines if record["logger"] == "django.request"]
    assert not_found["request_id"] == "req-404" and not_found["status_code"] == 404
    [after] = [record for record in json_lines if record["logger"] == "shop.after"]
    assert "request_id" not in after  # cleared when the response was closed


@pytest.mark.django_db
def test_an_event_published_in_a_request_keeps_the_request_id_for_its_subscribers():
    """The relay sends an outbox row later, from a task of its own: the row remembers the request."""
    logcontext.REQUEST_ID.set("req-outbox")
    try:
        with transaction.atomic():
            publish(OutboxProbe(label="in a request", tags=[]))
    finally:
        logcontext.REQUEST_ID.set(None)
    with transaction.atomic():
        publish(OutboxProbe(label="outside any request", tags=[]))

    assert list(OutboxMessage.objects.order_by("id").values_list("request_id", flat=True)) == [
        "req-outbox",
        "",
    ]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
def test_an_idle_worker_and_beat_log_no_routine_housekeeping(celery_worker, celery_beat):
    """
    Beat sends its sweeps and heartbeats every second here; the worker runs them (their rows
    show it) without an INFO line about them, and beat's "Sending due task" lines are DEBUG.
    """
    env = {"WORKER_HEARTBEAT_SECONDS": "1", "OUTBOX_SWEEP_SECONDS": "1", "JOBS_SWEEP_SECONDS": "1"}
    worker = celery_worker(queues=["default", "housekeeping"], env=env)
    beat = celery_beat(env=env)

    def beaten() -> bool:
        return QueueHeartbeat.objects.filter(queue__in=["default", "housekeeping"]).count() == 2

    assert wait_for(beaten, seconds=60), worker.log()
    first = QueueHeartbeat.objects.get(queue="default").consumed_at
    assert wait_for(lambda: QueueHeartbeat.objects.get(queue="default").consumed_at > first, seconds=30)

    worker_lines = [record for record in worker.records() if record["level"] == "INFO"]
    assert any(record["message"].endswith(" ready.") for record in worker_lines)  # the log is read
    routine = ("queue_heartbeat", "relay_outbox", "jobs_send_unsent")
    assert not [record for record in worker_lines if any(name in record["message"] for name in routine)]
    beat_records = json_records(beat.log())
    assert any(record["logger"] == "celery.beat" for record in beat_records)  # "beat: Starting..."
    assert not [record for record in beat_records if "Sending due task" in record["message"]]


def test_housekeeping_lines_are_debug_when_debug_is_on():
    quiet = logs.QuietHousekeeping()
    trace = logging.getLogger("celery.app.trace")
    succeeded = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"

    def record(name: str, level: int = logging.INFO) -> logging.LogRecord:
        args = {"name": name, "id": "1", "runtime": 0.01, "return_value": "None"}
        return trace.makeRecord(trace.name, level, __file__, 1, succeeded, (args,), None)

    heartbeat = record("shop.kernel.queue_heartbeat")
    order_task = record("integrations.erp_deliver_handover")
    failed = record("shop.kernel.queue_heartbeat", logging.ERROR)
    level = trace.level
    trace.setLevel(logging.DEBUG)
    try:
        assert quiet.filter(heartbeat) and heartbeat.levelname == "DEBUG"
    finally:
        trace.setLevel(level)
    assert not quiet.filter(record("shop.kernel.queue_heartbeat"))  # at INFO: dropped
    assert quiet.filter(order_task) and order_task.levelname == "INFO"
    assert quiet.filter(failed) and failed.levelname == "ERROR"
