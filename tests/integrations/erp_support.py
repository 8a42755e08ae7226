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


def place_orders_with_tokens(count: int, client: APIClient | None = None) -> list[tuple[str, str]]:
    """Place ``count`` paid orders, one SKU each; return their numbers and access tokens."""
    client = client or APIClient()
    placed = []
    for sku in stocked_skus(*([5] * count)):
        response = complete(client, ready_checkout(client, {sku: 1})["id"], key=f"erp-{next(_keys)}")
        assert response.status_code == 201, response.content
        placed.append((response.json()["number"], response.json()["access_token"]))
    return placed


def place_orders(count: int, client: APIClient | None = None) -> list[str]:
    """Place ``count`` paid orders, one SKU each; return their numbers."""
    return [number for number, _token in place_orders_with_tokens(count, client)]


def cancel_order(number: str, token: str):
    """The customer's cancel, over HTTP with the order's access token; returns the response."""
    return APIClient().post(f"/api/v1/orders/{number}/cancel/?token={token}")


def order_view(number: str, token: str) -> dict:
    """The order as its customer sees it."""
    response = APIClient().get(f"/api/v1/orders/{number}/?token={token}")
    assert response.status_code == 200, response.content
    return response.json()
