"""
End to end: a staff request queues an export, a real Celery worker consuming only the ``exports``
queue (through the real Redis broker) builds the feed in the test's PostgreSQL database.
"""

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from integrations.models import ExportJob
from tests.catalog.factories import sellable_product
from tests.celery_worker import wait_for

QUEUE = "exports"


@pytest.fixture
def exports_worker(celery_worker):
    """A ready worker that consumes only the ``exports`` queue (emptied first)."""
    return celery_worker(queues=[QUEUE])


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

    assert wait_for(finished, seconds=60), f"export not finished; worker log:\n{exports_worker.log()}"
    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.rows, job.failure) == ("done", 5, "")
    assert "Task integrations.export_feed[" in exports_worker.log()
    detail = api_client.get(f"/api/v1/integrations/exports/{job_id}/").json()
    download = api_client.get(detail["download_url"])
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == [f"E2E-{n}" for n in range(5)]
    assert [row[2] for row in rows[1:]] == [f"{n + 1}.50" for n in range(5)]
