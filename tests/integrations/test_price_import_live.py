"""
Price imports against the real services: a real Celery worker on the ``prices`` queue, and an
import of a few thousand rows on PostgreSQL while other threads complete checkouts of the SKUs it
reprices. Timings are printed, never asserted.
"""

import io
import statistics
import threading
import time
import uuid
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from catalog import api as catalog_api
from catalog.models import Variant  # read only, to write the import file
from checkout.models import Order
from integrations.models import ImportJob
from integrations.services import importing
from integrations.services import price_import as service
from tests.celery_worker import wait_for
from tests.checkout.support import complete, ready_checkout, stocked_skus

URL = "/api/v1/integrations/price-imports/"
_shipping_data = import_module("checkout.migrations.0002_shipping_methods")


@pytest.fixture
def shipping_methods(transactional_db):
    """The shipping methods of the data migration (a transactional test's flush removes them)."""
    _shipping_data.create(apps, None)


def staff_client() -> APIClient:
    staff = get_user_model().objects.create_user(
        f"s-{uuid.uuid4().hex[:8]}", "s@example.com", "pw", is_staff=True
    )
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_is_imported_by_a_real_worker_on_the_prices_queue(celery_worker):
    skus = stocked_skus(0, 0, 0)
    worker = celery_worker(queues=["prices"])
    rows = "".join(f"{sku},{index + 1}.25,EUR\n" for index, sku in enumerate(skus))
    file = SimpleUploadedFile("prices.csv", f"sku,amount,currency\n{rows}GHOST,1.00,EUR\n".encode())
    client = staff_client()

    response = client.post(URL, {"file": file}, format="multipart")

    assert response.status_code == 202, response.content
    job_url = f"{URL}{response.json()['id']}/"

    def finished() -> bool:
        return client.get(job_url).json()["status"] in ("done", "failed")

    assert wait_for(finished, seconds=60), f"not finished; worker log:\n{worker.log()}"
    job = client.get(job_url).json()
    assert (job["status"], job["rows_total"], job["rows_applied"], job["rows_rejected"]) == (
        "done",
        4,
        3,
        1,
    )
    assert job["errors"] == [{"row": 5, "message": "Unknown SKU 'GHOST'."}]
    prices = catalog_api.get_variants(skus=skus)
    assert [prices[sku].price.amount for sku in skus] == [
        Decimal("1.25"),
        Decimal("2.25"),
        Decimal("3.25"),
    ]
    assert "integrations.price_import_run" in worker.log()


@pytest.mark.postgres
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_price_import_during_a_stream_of_checkouts(shipping_methods):
    """No checkout fails while an import reprices the SKUs being bought, chunk by chunk."""
    bought = stocked_skus(*([10_000] * 10))
    call_command("seed_demo", "--products", "1200", "--no-stock", "--seed", "7", stdout=io.StringIO())
    seeded = list(Variant.objects.exclude(sku__in=bought).values_list("sku", flat=True)[:4000])
    skus = bought + seeded
    lines = [f"{sku},{Decimal(11) + Decimal(index % 500) / 100},EUR\n" for index, sku in enumerate(skus)]
    upload = SimpleUploadedFile("prices.csv", ("sku,amount,currency\n" + "".join(lines)).encode())
    job = importing.job_create(kind=ImportJob.Kind.PRICES, upload=upload, created_by_id=None)

    done = threading.Event()
    timings: list[float] = []
    failures: list[str] = []
    import_seconds: list[float] = []

    def run_import():
        try:
            started = time.perf_counter()
            service.price_import_run(job_id=job.pk, chunk_rows=500)
            import_seconds.append(time.perf_counter() - started)
        finally:
            done.set()
            connections.close_all()

    def buy(thread: int):
        client = APIClient()
        count = 0
        try:
            while not done.is_set() or count < 3:
                sku = bought[(thread + count) % len(bought)]
                checkout = ready_checkout(client, {sku: 1})
                started = time.perf_counter()
                response = complete(client, checkout["id"], key=f"k-{thread}-{count}")
                timings.append(time.perf_counter() - started)
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.content[:200]!r}")
                count += 1
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on below
            failures.append(repr(exc))
        finally:
            connections.close_all()

    buyers = [threading.Thread(target=buy, args=(index,)) for index in range(4)]
    importer = threading.Thread(target=run_import)
    for thread in buyers:
        thread.start()
    importer.start()
    importer.join(timeout=180)
    for thread in buyers:
        thread.join(timeout=60)
    assert not importer.is_alive() and not any(thread.is_alive() for thread in buyers), "a thread hung"

    job.refresh_from_db()
    print(
        f"\nimport of {len(skus)} rows: {import_seconds[0] if import_seconds else float('nan'):.2f} s; "
        f"{len(timings)} completions during it: median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms"
    )
    assert failures == []
    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == (
        "done",
        len(skus),
        len(skus),
        0,
    )
    assert Order.objects.count() == len(timings)
    final = catalog_api.get_variants(skus=bought)
    assert [final[sku].price.amount for sku in bought] == [
        Decimal(11) + Decimal(index) / 100 for index in range(10)
    ]
