"""Placing orders for the ERP hand-over tests, through checkout's HTTP API like a customer."""

import itertools
from importlib import import_module

from django.apps import apps
from rest_framework.test import APIClient

from tests.checkout.support import complete, ready_checkout, stocked_skus

_keys = itertools.count(1)


def create_shipping_methods() -> None:
    """Checkout's shipping methods (its data migration's; a transactional test's flush removes them)."""
    import_module("checkout.migrations.0002_shipping_methods").create(apps, None)


def place_orders(count: int, client: APIClient | None = None) -> list[str]:
    """Place ``count`` paid orders, one SKU each; return their numbers."""
    client = client or APIClient()
    numbers = []
    for sku in stocked_skus(*([5] * count)):
        response = complete(client, ready_checkout(client, {sku: 1})["id"], key=f"erp-{next(_keys)}")
        assert response.status_code == 201, response.content
        numbers.append(response.json()["number"])
    return numbers
