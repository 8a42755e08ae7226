"""Retention: checkouts that are over are deleted after CHECKOUT_RETENTION_DAYS; orders stay."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from checkout import services
from checkout.models import Checkout
from checkout.tasks import purge_checkouts
from tests.checkout.support import complete, ready_checkout, stocked_skus

pytestmark = pytest.mark.django_db

DAYS_30 = datetime.timedelta(days=30)


def age(checkout_id, days: int, **fields) -> None:
    """Let the checkout have been last changed ``days`` ago (and set ``fields``)."""
    Checkout.objects.filter(pk=checkout_id).update(
        updated_at=timezone.now() - datetime.timedelta(days=days), **fields
    )


def remaining() -> set[str]:
    return {str(pk) for pk in Checkout.objects.values_list("pk", flat=True)}


def test_checkouts_that_are_over_go_and_their_orders_stay():
    client = APIClient()
    skus = stocked_skus(10, 10, 10, 10, 10, 10)
    ids = {
        name: ready_checkout(client, {sku: 1})["id"]
        for name, sku in zip(
            ("completed", "abandoned", "expired", "completing", "recent", "open"), skus, strict=True
        )
    }
    order = complete(client, ids["completed"]).json()
    long_ago = timezone.now() - datetime.timedelta(days=40)
    age(ids["completed"], 31)
    age(ids["abandoned"], 31, status=Checkout.Status.ABANDONED)
    age(ids["expired"], 31, expires_at=long_ago)
    age(ids["completing"], 31, status=Checkout.Status.COMPLETING)  # died during the payment: kept
    age(ids["recent"], 29, status=Checkout.Status.ABANDONED)
    age(ids["open"], 31)  # open, its reservation not yet expired long enough: kept

    assert services.checkouts_purge(older_than=DAYS_30) == 3

    assert remaining() == {ids["completing"], ids["recent"], ids["open"]}
    assert client.get(f"/api/v1/checkouts/{ids['expired']}/").status_code == 404
    read = client.get(f"/api/v1/orders/{order['number']}/", {"token": order["access_token"]})
    assert read.status_code == 200
    assert read.json()["shipping_address"] == order["shipping_address"]


def test_batches_the_limit_and_the_task(settings):
    client = APIClient()
    ids = [ready_checkout(client, {sku: 1})["id"] for sku in stocked_skus(5, 5, 5, 5)]
    for checkout_id in ids:
        age(checkout_id, 12, status=Checkout.Status.ABANDONED)

    assert services.checkouts_purge(older_than=DAYS_30) == 0
    assert services.checkouts_purge(older_than=datetime.timedelta(days=10), batch_size=1, limit=3) == 3
    settings.CHECKOUT_RETENTION_DAYS = 10
    assert purge_checkouts() == 1
    assert remaining() == set()


def test_beat_runs_the_purge_hourly(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "checkout.purge_checkouts")
    assert entry["schedule"].run_every == datetime.timedelta(hours=1)
