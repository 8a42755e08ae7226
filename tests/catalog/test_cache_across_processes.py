"""
The embedded default cache (no ``REDIS_URL``, as under ``make run``) is shared by every process
of the machine: a worker in another process drops the product detail it made stale, and the web
process (this test) reads the fresh one at once, not after ``CATALOG_CACHE_SECONDS``.
"""

import pytest
from django.core.cache import caches

from catalog.models import Variant
from tests.catalog.factories import sellable_product
from tests.celery_worker import wait_for
from tests.embedded import embedded_default_caches
from tests.inventory.factories import stock


@pytest.mark.postgres
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_a_worker_in_another_process_drops_the_stale_detail_for_the_web_process(
    celery_worker, api_client, settings
):
    settings.CACHES = embedded_default_caches()
    assert settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache")
    shared = caches["default"]
    shared.clear()
    # The worker (catalog's StockChanged subscriber, the outbox relay) runs on the same cache.
    worker = celery_worker(queues=["default"], env={"REDIS_URL": ""})
    product = sellable_product(name="Sturdy Mug", skus=["MUG-1"])
    url = f"/api/v1/catalog/products/{product.slug}/"

    def in_stock() -> bool:
        return api_client.get(url).json()["variants"][0]["in_stock"]

    stock("MUG-1", 1)
    assert wait_for(lambda: Variant.objects.get(sku="MUG-1").in_stock, seconds=60), worker.log()
    assert in_stock() is True  # cached now, in the shared cache

    stock("MUG-1", 0)  # StockChanged: the worker sets the flag and drops the cached detail

    assert wait_for(lambda: in_stock() is False, seconds=60), f"stale detail; worker log:\n{worker.log()}"
    shared.clear()
