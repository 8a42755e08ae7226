"""
Set-up for the cart's tests: products through the catalog's factories, stock through the
inventory's api, customers through the accounts' HTTP API (bearer tokens).
"""

import itertools

import pytest
from rest_framework.test import APIClient

from cart.models import CartLine
from inventory import api as inventory_api
from tests.catalog.factories import sellable_product

CARTS = "/api/v1/carts/"
WAREHOUSE = "main"
PASSWORD = "correct-horse-battery-staple"

_emails = itertools.count(1)


def cart_url(token, *parts) -> str:
    return "/".join([CARTS.rstrip("/"), str(token), *(str(part) for part in parts)]) + "/"


def stock(sku: str, on_hand: int) -> None:
    inventory_api.ensure_warehouse(code=WAREHOUSE, name="Main warehouse")
    inventory_api.set_on_hand(sku=sku, warehouse=WAREHOUSE, on_hand=on_hand)


def product(sku: str, *, price: str = "10.00", on_hand: int = 500):
    """A sellable one-variant product with ``sku`` at ``price`` and ``on_hand`` in stock."""
    made = sellable_product(skus=[sku], price=price)
    stock(sku, on_hand)
    return made


def lines_of(token) -> list[tuple[str, int]]:
    """The stored lines of the cart ``token``: what a refused request must leave unchanged."""
    return list(CartLine.objects.filter(cart__token=token).order_by("id").values_list("sku", "quantity"))


def new_cart(client) -> str:
    response = client.post(CARTS, {}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()["token"]


def add(client, token, sku: str, quantity=1):
    return client.post(cart_url(token, "lines"), {"sku": sku, "quantity": quantity}, format="json")


@pytest.fixture
def customer():
    """A factory of signed-in clients: ``customer()`` registers an account and returns its client."""

    def make() -> APIClient:
        client = APIClient()
        email = f"customer{next(_emails)}@example.com"
        registered = client.post(
            "/api/v1/auth/register/", {"email": email, "password": PASSWORD}, format="json"
        )
        assert registered.status_code == 201, registered.content
        token = client.post("/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}")
        client.customer_id = registered.json()["id"]
        return client

    return make
