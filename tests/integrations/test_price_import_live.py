"""
Price imports against the real services: a real Celery worker on the ``prices`` queue, and an
import of a few thousand rows on PostgreSQL while other threads complete checkouts of the SKUs it
reprices. Timings are printed, never asserted.
"""

import io
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.conf import settings
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
from tests.checkout.support import complete, ready_checkout, stocked_skus
from tests.kernel.brokers import BrokerQueue
from tests.kernel.test_worker_e2e import _test_database_url, _wait_for

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


class PricesWorker:
    """``celery -A shop worker --queues prices``, its output in a log file."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.process = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings.test",
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "shop",
            "worker",
            "--pool",
            "solo",
            "--queues",
            "prices",
            "--hostname",
            f"prices-e2e-{uuid.uuid4().hex[:8]}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def is_ready(self) -> bool:
        assert self.process.poll() is None, f"the worker exited:\n{self.log()}"
        return " ready." in self.log()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_is_imported_by_a_real_worker_on_the_prices_queue(tmp_path):
    BrokerQueue("prices").purge()
    skus = stocked_skus(0, 0, 0)
    worker = PricesWorker(tmp_path / "worker.log")
    worker.start()
    try:
        assert _wait_for(worker.is_ready, seconds=60), f"worker not ready:\n{worker.log()}"
        rows = "".join(f"{sku},{index + 1}.25,EUR\n" for index, sku in enumerate(skus))
        file = SimpleUploadedFile("prices.csv", f"sku,amount,currency\n{rows}GHOST,1.00,EUR\n".encode())
        client = staff_client()

        response = client.post(URL, {"file": file}, format="multipart")

        assert response.status_code == 202, response.content
        job_url = f"{URL}{response.json()['id']}/"

        def finished() -> bool:
            return client.get(job_url).json()["status"] in ("done", "failed")

        assert _wait_for(finished, seconds=60), f"not finished; worker log:\n{worker.log()}"
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
    finally:
        worker.stop()
        BrokerQueue("prices").purge()


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
