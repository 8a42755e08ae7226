"""
The kernel's metrics: multiprocess mode on in every configuration, the folder kept right across
starts (``shop.kernel.metrics_files``), and the gauges computed at scrape time (queue depth,
outbox lag, heartbeats, beat) read from the real database and broker.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import prometheus_client.values
import pytest
from django.conf import settings
from django.utils import timezone

from shop.celery import app as celery_app
from shop.kernel import heartbeats, metrics_files
from shop.kernel.models import OutboxMessage
from tests.kernel.brokers import BrokerQueue

ROOT = Path(__file__).resolve().parents[2]


def test_this_process_writes_its_samples_to_the_run_s_multiprocess_folder():
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

    assert folder == Path(settings.PROMETHEUS_MULTIPROC_DIR) == Path(settings.VAR_DIR) / "metrics"
    assert prometheus_client.values.ValueClass is not prometheus_client.values.MutexValue
    assert any(folder.glob(f"*_{os.getpid()}.db"))  # this process's counters are files there


@pytest.mark.parametrize("environment", [{}, {"PROMETHEUS_MULTIPROC_DIR": "{tmp}/elsewhere"}])
def test_a_process_on_the_embedded_defaults_is_in_multiprocess_mode(tmp_path, environment):
    """``make run``'s configuration (DEBUG, SQLite, no Redis): the folder is under VAR_DIR unless set."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env |= {"DJANGO_SETTINGS_MODULE": "shop.settings.base", "DEBUG": "true", "VAR_DIR": str(tmp_path)}
    env |= {name: value.format(tmp=tmp_path) for name, value in environment.items()}
    script = (
        "import django, json, os\ndjango.setup()\n"
        "import prometheus_client.values as v\n"
        "from django.conf import settings\n"
        "print(json.dumps({'folder': os.environ['PROMETHEUS_MULTIPROC_DIR'], "
        "'setting': settings.PROMETHEUS_MULTIPROC_DIR, "
        "'multiprocess': v.ValueClass is not v.MutexValue}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    expected = str(tmp_path / "elsewhere") if environment else str(tmp_path / "metrics")
    assert seen == {"folder": expected, "setting": expected, "multiprocess": True}
    assert Path(expected).is_dir()


def _exited_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _files(folder: Path, pid: int) -> list[Path]:
    files = [folder / f"counter_{pid}.db", folder / f"histogram_{pid}.db"]
    for file in files:
        file.write_bytes(b"\0" * 8)
    return files


def test_a_start_removes_the_files_of_a_previous_run(tmp_path):
    dead = _files(tmp_path, _exited_pid())
    own = _files(tmp_path, os.getpid())

    removed = metrics_files.prepare(tmp_path)

    assert sorted(removed) == sorted(dead)
    assert not any(file.exists() for file in dead)
    assert all(file.exists() for file in own)  # this process may have them open


def test_a_start_beside_a_running_process_of_the_folder_removes_nothing(tmp_path):
    running = subprocess.Popen(["sleep", "30"])
    try:
        dead = _files(tmp_path, _exited_pid())
        alive = _files(tmp_path, running.pid)

        assert metrics_files.prepare(tmp_path) == []

        assert all(file.exists() for file in dead + alive)  # its totals stay whole while it runs
    finally:
        running.kill()
        running.wait()
    assert sorted(metrics_files.prepare(tmp_path)) == sorted(dead + alive)  # next start: all gone


@pytest.mark.django_db
def test_outbox_lag_is_the_age_of_the_oldest_unsent_row(scrape):
    assert scrape().value("shop_outbox_lag_seconds") == 0
    old = timezone.now() - timedelta(minutes=5)
    for occurred_at in (old, timezone.now()):
        OutboxMessage.objects.create(event_type="test.Event", version=1, payload={}, occurred_at=occurred_at)
    OutboxMessage.objects.create(
        event_type="test.Event", version=1, payload={}, occurred_at=old - timedelta(hours=1), sent_at=old
    )

    after = scrape()

    assert 300 <= after.value("shop_outbox_lag_seconds") < 360  # the sent row does not count
    assert after.value("shop_outbox_unsent") == 2


@pytest.mark.django_db
def test_heartbeats_tell_each_queue_s_consumption_and_beat_s_last_run(scrape):
    now = timezone.now()
    heartbeats.record(queue="default", sent_at=now - timedelta(seconds=30), worker="w@test")
    before = scrape()

    assert 0 <= before.value("shop_queue_last_consumed_age_seconds", queue="default") < 10
    assert before.value("shop_queue_last_consumed_age_seconds", queue="exports") == float("inf")
    assert 30 <= before.value("shop_beat_last_run_age_seconds") < 40
    queues = {labels["queue"] for labels in before.series("shop_queue_last_consumed_age_seconds")}
    assert queues == {queue.name for queue in settings.CELERY_TASK_QUEUES}


@pytest.mark.redis
@pytest.mark.django_db
def test_queue_length_counts_the_messages_waiting_in_the_broker(scrape):
    queue = BrokerQueue("exports")
    queue.purge()
    try:
        for _ in range(3):
            celery_app.send_task("integrations.export_feed", args=["nothing"], queue="exports")

        after = scrape()

        assert after.value("shop_celery_queue_length", queue="exports") == 3 == len(queue)
        assert after.has("shop_celery_queue_length", queue="default")
    finally:
        queue.purge()


@pytest.mark.django_db
def test_a_scrape_still_answers_when_the_broker_is_down(scrape, broker_down):
    after = scrape()

    assert after.series("shop_celery_queue_length") == []  # left out, not an error
    assert after.has("shop_outbox_lag_seconds")


@pytest.mark.django_db
def test_cache_gets_are_counted_by_django_prometheus(scrape):
    from django.core.cache import cache

    before = scrape()
    cache.get("metrics-test-absent-key")
    after = scrape()

    if settings.CACHES["default"]["BACKEND"].endswith("redis.RedisCache"):
        assert after.delta(before, "django_cache_get_total", backend="redis") == 1
        assert after.delta(before, "django_cache_get_misses_total", backend="redis") == 1
    else:  # the embedded defaults' file cache is not wrapped
        assert not after.series("django_cache_get_total")


DATABASE_METRICS = """
from django.db import connection, connections
from django_prometheus.db.common import DatabaseWrapperMixin
from tests.metrics_support import Scrape
from shop.kernel.metrics import scrape_registry
from prometheus_client import generate_latest
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
scrape = Scrape(generate_latest(scrape_registry()).decode())
labels = {"alias": "default", "vendor": connection.vendor}
print(json.dumps({
    "prometheus_wrapper": isinstance(connections["default"], DatabaseWrapperMixin),
    "executed": scrape.value("django_db_execute_total", **labels),
    "timed": scrape.value("django_db_query_duration_seconds_count", **labels),
}))
"""


@pytest.mark.parametrize("asked", [True, False], ids=["METRICS_DATABASE=true", "off"])
def test_database_metrics_when_asked_for(tmp_path, asked):
    from tests.shop.test_project import in_fresh_process

    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    if asked:
        env["METRICS_DATABASE"] = "true"
    found = in_fresh_process(DATABASE_METRICS, tmp_path, **env)

    assert found["prometheus_wrapper"] == asked
    assert (found["executed"] >= 1, found["timed"] >= 1) == (asked, asked)
