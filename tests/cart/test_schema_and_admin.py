"""The cart in the OpenAPI schema and in the admin."""

import pytest

from cart.models import Cart
from tests.cart.conftest import add, new_cart, product

pytestmark = pytest.mark.django_db


def test_the_schema_describes_every_cart_operation_with_its_errors(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]

    operations = {
        ("/api/v1/carts/", "post"): {"201", "200", "400"},
        ("/api/v1/carts/{token}/", "get"): {"200", "404"},
        ("/api/v1/carts/{token}/lines/", "post"): {"201", "400", "404", "409"},
        ("/api/v1/carts/{token}/lines/{line_id}/", "patch"): {"200", "400", "404", "409"},
        ("/api/v1/carts/{token}/lines/{line_id}/", "delete"): {"200", "404"},
        ("/api/v1/carts/{token}/merge/", "post"): {"200", "401", "404"},
    }
    for (path, method), statuses in operations.items():
        responses = paths[path][method]["responses"]
        assert set(responses) >= statuses, (path, method)
        for status in statuses:
            if status.startswith("4"):
                assert "application/problem+json" in responses[status]["content"]
    cart = schema["components"]["schemas"]["Cart"]
    assert set(cart["required"]) >= {"token", "lines", "subtotal", "item_count"}
    line = schema["components"]["schemas"]["CartLine"]
    assert set(line["properties"]) >= {"id", "sku", "name", "quantity", "unit_price", "line_total"}


def test_the_admin_shows_carts_read_only(admin_client, api_client):
    product("A-1")
    token = new_cart(api_client)
    add(api_client, token, "A-1", 2)
    cart = Cart.objects.get(token=token)

    listing = admin_client.get("/admin/cart/cart/")
    assert listing.status_code == 200
    assert token in listing.content.decode()
    for term in (token, "A-1", "nothing-like-it", "12"):
        assert admin_client.get("/admin/cart/cart/", {"q": term}).status_code == 200
    assert token in admin_client.get("/admin/cart/cart/", {"q": "A-1"}).content.decode()

    change = admin_client.get(f"/admin/cart/cart/{cart.pk}/change/")
    assert change.status_code == 200
    assert "A-1" in change.content.decode()
    assert admin_client.get("/admin/cart/cart/add/").status_code == 403
    assert admin_client.post(f"/admin/cart/cart/{cart.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Cart.objects.filter(pk=cart.pk).exists()
