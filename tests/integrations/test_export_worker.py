"""
End to end: a staff request queues an export, a real Celery worker consuming only the ``exports``
queue (through the real Redis broker) builds the feed in the test's PostgreSQL database.
"""

import csv
import io
import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from integrations.models import ExportJob
from tests.catalog.factories import sellable_product
from tests.kernel.brokers import BrokerQueue
from tests.kernel.test_worker_e2e import _test_database_url, _wait_for

QUEUE = "exports"


@pytest.fixture
def exports_worker(transactional_db, tmp_path):
    """A ready worker that consumes only the ``exports`` queue (emptied first)."""
    BrokerQueue(QUEUE).purge()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "VAR_DIR": str(settings.VAR_DIR),  # the same media root as this process
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo",
        "--queues", QUEUE, "--hostname", f"exports-e2e-{uuid.uuid4().hex[:8]}@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def read_log() -> str:
        return log_path.read_text(errors="replace")

    def ready() -> bool:
        assert process.poll() is None, f"the worker exited:\n{read_log()}"
        return " ready." in read_log()

    try:
        assert _wait_for(ready, seconds=60), f"worker not ready:\n{read_log()}"
        yield read_log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        BrokerQueue(QUEUE).purge()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_an_export_is_built_by_a_worker_on_the_exports_queue(exports_worker, api_client):
    for n in range(5):
        sellable_product(skus=[f"E2E-{n}"], price=f"{n + 1}.50")
    staff = get_user_model().objects.create_user("exporter", "exporter@example.com", "pw", is_staff=True)
    api_client.force_authenticate(staff)

    response = api_client.post("/api/v1/integrations/exports/", {"format": "csv"}, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    # From here on the worker does the work; the test only watches the database.

    def finished() -> bool:
        return ExportJob.objects.filter(pk=job_id, status__in=["done", "failed"]).exists()

    assert _wait_for(finished, seconds=60), f"export not finished; worker log:\n{exports_worker()}"
    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.rows, job.failure) == ("done", 5, "")
    assert "Task integrations.export_feed[" in exports_worker()
    detail = api_client.get(f"/api/v1/integrations/exports/{job_id}/").json()
    download = api_client.get(detail["download_url"])
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == [f"E2E-{n}" for n in range(5)]
    assert [row[2] for row in rows[1:]] == [f"{n + 1}.50" for n in range(5)]
