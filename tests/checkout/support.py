"""Setting up checkouts through the other contexts' public faces (their api and HTTP)."""

import itertools
from decimal import Decimal

from rest_framework.test import APIClient

from inventory import api as inventory_api
from tests.catalog.factories import sellable_product

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
}
_skus = itertools.count(1)


def stocked_skus(*quantities: int, price: str = "10.00") -> list[str]:
    """One product per quantity, each with one variant in stock in warehouse MAIN."""
    inventory_api.ensure_warehouse(code="MAIN", name="Main warehouse")
    skus = []
    for on_hand in quantities:
        sku = f"CHK-{next(_skus):05d}"
        sellable_product(skus=[sku], price=price)
        if on_hand:
            inventory_api.set_on_hand(sku=sku, warehouse="MAIN", on_hand=on_hand, reason="receipt")
        skus.append(sku)
    return skus


def cart_with(client: APIClient, lines: dict[str, int]) -> str:
    response = client.post("/api/v1/carts/", {}, format="json")
    assert response.status_code in (200, 201), response.content
    token = response.json()["token"]
    for sku, quantity in lines.items():
        added = client.post(
            f"/api/v1/carts/{token}/lines/", {"sku": sku, "quantity": quantity}, format="json"
        )
        assert added.status_code == 201, added.content
    return token


def ready_checkout(client: APIClient, lines: dict[str, int], *, method: str = "standard") -> dict:
    """A checkout with e-mail, address and shipping method: ready to complete."""
    return checkout_of(client, cart_with(client, lines), method=method)


def checkout_of(client: APIClient, token: str, *, method: str = "standard") -> dict:
    """A checkout of the cart ``token`` with e-mail, address and shipping method: ready to complete."""
    created = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")
    assert created.status_code == 201, created.content
    checkout_id = created.json()["id"]
    updated = client.patch(
        f"/api/v1/checkouts/{checkout_id}/",
        {"email": "ada@example.com", "shipping_address": ADDRESS, "shipping_method": method},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    return updated.json()


def complete(client: APIClient, checkout_id: str, *, key: str | None = "key-1", token: str = "tok_success"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        f"/api/v1/checkouts/{checkout_id}/complete/", {"payment_token": token}, format="json", **headers
    )


def money(amount: str, currency: str = "EUR") -> dict:
    return {"amount": str(Decimal(amount).quantize(Decimal("0.01"))), "currency": currency}


def signed_in_client(email: str) -> APIClient:
    client = APIClient()
    password = "a-long-enough-passphrase"
    assert (
        client.post(
            "/api/v1/auth/register/", {"email": email, "password": password}, format="json"
        ).status_code
        == 201
    )
    token = client.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json").json()[
        "token"
    ]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
