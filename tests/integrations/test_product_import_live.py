"""
Product imports against the real services: feeds uploaded through the API are imported by a real
Celery worker consuming only the queue the task is routed to (``integrations.product_*`` →
``prices``), through Redis, on PostgreSQL; what the catalog then holds is read through
``catalog.api``.
"""

import json
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalog import api as catalog_api
from integrations.tasks.product_import import product_import_run
from shop.celery import app
from tests.catalog.factories import AttributeFactory, CategoryFactory
from tests.celery_worker import wait_for

URL = "/api/v1/integrations/product-imports/"
HEADER = "sku,product_slug,product_name,variant_name,category,description,attributes,active\n"


def staff_client() -> APIClient:
    staff = get_user_model().objects.create_user(
        f"s-{uuid.uuid4().hex[:8]}", "s@example.com", "pw", is_staff=True
    )
    client = APIClient()
    client.force_authenticate(staff)
    return client


def import_through_the_worker(client: APIClient, worker, file: SimpleUploadedFile) -> dict:
    """Upload ``file`` through the API and return the job's report once the worker finished it."""
    response = client.post(URL, {"file": file}, format="multipart")
    assert response.status_code == 202, response.content
    job_url = f"{URL}{response.json()['id']}/"

    def finished() -> bool:
        return client.get(job_url).json()["status"] in ("done", "failed")

    assert wait_for(finished, seconds=60), f"not finished; worker log:\n{worker.log()}"
    return client.get(job_url).json()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_feeds_uploaded_through_the_api_are_imported_by_a_real_worker(celery_worker):
    CategoryFactory(slug="tents", name="Tents")
    AttributeFactory(code="colour", kind="text")
    queue = app.amqp.router.route({}, product_import_run.name)["queue"].name
    worker = celery_worker(queues=[queue])
    client = staff_client()
    csv = (
        HEADER
        + 'TNT-1-G,alpine-tent,Alpine Tent,Green,tents,A storm-proof tent.,"{""colour"": ""green""}",\n'
        + 'TNT-1-R,alpine-tent,Alpine Tent,Red,tents,A storm-proof tent.,"{""colour"": ""green""}",yes\n'
        + "STV-9,pocket-stove,Pocket Stove,,tents,Boils water fast.,,0\n"
        + "BAD-1,cave,Cave,,caves,,,\n"  # row 5: no such category
    )

    job = import_through_the_worker(client, worker, SimpleUploadedFile("products.csv", csv.encode()))

    assert (job["status"], job["rows_total"], job["rows_applied"], job["rows_rejected"]) == ("done", 4, 3, 1)
    assert job["errors"] == [{"row": 5, "message": "Product 'cave': unknown category 'caves'."}]
    variants = catalog_api.get_variants(skus=["TNT-1-G", "TNT-1-R", "STV-9", "BAD-1"])
    assert {sku: (v.product_slug, v.product_name, v.name) for sku, v in variants.items()} == {
        "TNT-1-G": ("alpine-tent", "Alpine Tent", "Green"),
        "TNT-1-R": ("alpine-tent", "Alpine Tent", "Red"),
        "STV-9": ("pocket-stove", "Pocket Stove", "Pocket Stove"),
    }
    catalog_api.set_prices(rows=[(sku, "10.00", "EUR") for sku in variants])
    sellable = catalog_api.get_variants(skus=list(variants))
    assert {sku: v.is_sellable for sku, v in sellable.items()} == {
        "TNT-1-G": True,
        "TNT-1-R": True,
        "STV-9": False,  # imported inactive
    }

    # A second feed, JSON lines: the red tent goes off sale, the stove comes on.
    lines = [
        {"sku": sku, "product_slug": slug, "product_name": name, "category": "tents", "active": active}
        for sku, slug, name, active in [
            ("TNT-1-R", "alpine-tent", "Alpine Tent", False),
            ("STV-9", "pocket-stove", "Pocket Stove", True),
        ]
    ]
    lines[0]["description"] = "A storm-proof tent."
    lines[0]["attributes"] = {"colour": "green"}
    lines[0]["variant_name"] = "Red"
    lines[1]["description"] = "Boils water fast."
    jsonl = "".join(json.dumps(line) + "\n" for line in lines)

    job = import_through_the_worker(client, worker, SimpleUploadedFile("products.jsonl", jsonl.encode()))

    assert (job["status"], job["rows_applied"], job["rows_rejected"]) == ("done", 2, 0)
    after = catalog_api.get_variants(skus=list(variants))
    assert {sku: v.is_sellable for sku, v in after.items()} == {
        "TNT-1-G": True,
        "TNT-1-R": False,
        "STV-9": True,
    }
    assert after["TNT-1-R"].price.amount == Decimal("10.00")  # off sale, nothing deleted
    assert "integrations.product_import_run" in worker.log()
