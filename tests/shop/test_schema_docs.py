"""The API docs: operations grouped by context with a summary each, a lock only where it is needed."""

import pytest

pytestmark = pytest.mark.django_db

CONTEXTS = ["accounts", "catalog", "cart", "checkout", "inventory", "integrations"]
# Open to anyone (the customer's bearer token is optional where it makes a cart or order theirs).
PUBLIC = {
    ("post", "/api/v1/auth/register/"),
    ("post", "/api/v1/auth/token/"),
    ("get", "/api/v1/catalog/categories/"),
    ("get", "/api/v1/catalog/products/"),
    ("get", "/api/v1/catalog/products/{slug}/"),
    ("post", "/api/v1/carts/"),
    ("get", "/api/v1/carts/{token}/"),
    ("post", "/api/v1/carts/{token}/lines/"),
    ("patch", "/api/v1/carts/{token}/lines/{line_id}/"),
    ("delete", "/api/v1/carts/{token}/lines/{line_id}/"),
    ("post", "/api/v1/checkouts/"),
    ("get", "/api/v1/checkouts/{checkout_id}/"),
    ("patch", "/api/v1/checkouts/{checkout_id}/"),
    ("get", "/api/v1/checkouts/{checkout_id}/shipping-methods/"),
    ("post", "/api/v1/checkouts/{checkout_id}/complete/"),
    ("get", "/api/v1/orders/{number}/"),
    ("post", "/api/v1/orders/{number}/cancel/"),
}
SIGNED_IN = {
    ("post", "/api/v1/auth/logout/"),
    ("post", "/api/v1/carts/{token}/merge/"),
    ("get", "/api/v1/orders/"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def operations(schema):
    return {
        (method, path): operation
        for path, ops in schema["paths"].items()
        for method, operation in ops.items()
    }


def test_every_operation_has_a_one_line_summary_and_the_tag_of_its_context(schema):
    assert [tag["name"] for tag in schema["tags"]] == CONTEXTS
    assert all(tag["description"] for tag in schema["tags"])
    for key, operation in operations(schema).items():
        summary = operation.get("summary", "")
        assert summary and "\n" not in summary and len(summary) <= 80, key
        assert len(operation["tags"]) == 1 and operation["tags"][0] in CONTEXTS, key
    tags = {key: operation["tags"][0] for key, operation in operations(schema).items()}
    assert tags[("post", "/api/v1/auth/logout/")] == "accounts"
    assert tags[("get", "/api/v1/orders/")] == "checkout"
    assert tags[("get", "/api/v1/inventory/stock/{sku}/")] == "inventory"
    assert {tags[key] for key in tags if key[1].startswith("/api/v1/integrations/")} == {"integrations"}


def test_only_operations_that_need_credentials_declare_security(schema):
    ops = operations(schema)
    assert ops.keys() >= PUBLIC | SIGNED_IN
    for key in PUBLIC:
        assert ops[key].get("security", []) == [], key
    staff = ops.keys() - PUBLIC - SIGNED_IN
    assert {path.split("/")[3] for _, path in staff} == {"inventory", "integrations"}
    for key in staff | SIGNED_IN:
        requirements = ops[key]["security"]
        assert {"bearerAuth": []} in requirements and {} not in requirements, key
    assert ops[("post", "/api/v1/auth/logout/")]["security"] == [
        {"bearerAuth": []}
    ]  # a session does not sign out


def test_no_operation_has_a_format_parameter(schema):
    for key, operation in operations(schema).items():
        assert "format" not in {parameter["name"] for parameter in operation.get("parameters", [])}, key
