"""
Bad input at the border (issue 8, item 4): deeply nested or oversized JSON, NUL characters in a
URL, a query string, a header or a body. Each is a 400 problem+json, never a 500, and nothing
reaches the decoder's recursion or PostgreSQL (whose text cannot hold a NUL).
"""

import base64
import logging

import pytest

from tests.checkout.support import complete, ready_checkout, stocked_skus
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

NESTED = "[" * 100_000 + "]" * 100_000
NESTED_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000


@pytest.fixture
def client(api_client):
    api_client.raise_request_exception = False  # a 500 is answered, as in production, not raised
    return api_client


def cart_token(client) -> str:
    return client.post("/api/v1/carts/", {}, format="json").json()["token"]


@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT, "[" * 33 + "]" * 33])
@pytest.mark.parametrize("path", ["/api/v1/carts/", "/api/v1/auth/token/", "/api/v1/auth/register/", "lines"])
def test_deeply_nested_json_is_400_without_an_error_in_the_log(client, caplog, path, body):
    if path == "lines":
        path = f"/api/v1/carts/{cart_token(client)}/lines/"

    with caplog.at_level(logging.WARNING):
        response = client.post(path, body, content_type="application/json")

    problem = assert_problem(response, 400, "invalid")
    assert "nested deeper than 32" in problem["detail"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_depth_is_a_setting_and_json_within_it_is_read(client, settings):
    settings.API_JSON_MAX_DEPTH = 1
    lines = f"/api/v1/carts/{cart_token(client)}/lines/"

    flat = client.post(lines, '{"sku": "NO-SUCH-SKU", "quantity": 1}', content_type="application/json")
    nested = client.post(lines, '{"sku": ["NO-SUCH-SKU"], "quantity": 1}', content_type="application/json")

    assert_problem(flat, 400, "unknown_sku")  # read, then refused by the view
    assert "nested deeper than 1" in assert_problem(nested, 400, "invalid")["detail"]


def test_a_json_body_over_the_limit_is_400_too_large(client, settings):
    settings.API_JSON_MAX_BYTES = 1000
    body = '{"email": "a@example.com", "password": "' + "x" * 1000 + '"}'

    assert_problem(
        client.post("/api/v1/auth/token/", body, content_type="application/json"), 400, "too_large"
    )


def test_a_body_over_djangos_upload_limit_is_400_too_large(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"email": "a@example.com", "password": "' + "x" * 2000 + '"}'

    assert_problem(
        client.post("/api/v1/auth/token/", body, content_type="application/json"), 400, "too_large"
    )


def test_a_nul_in_a_json_string_is_400(client):
    token = cart_token(client)
    response = client.post(
        f"/api/v1/carts/{token}/lines/", '{"sku": "A\\u0000", "quantity": 1}', content_type="application/json"
    )
    assert "NUL" in assert_problem(response, 400, "invalid")["detail"]


def test_a_nested_cursor_is_400(client):
    cursor = base64.urlsafe_b64encode(b"[" * 1400).decode().rstrip("=")

    body = assert_problem(client.get("/api/v1/catalog/products/", {"cursor": cursor}), 400, "invalid")
    assert "cursor" in body["errors"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/integrations/handovers/%00/retry/"),
        ("get", "/api/v1/orders/%00/"),
        ("get", "/api/v1/orders/AB%00CD/?token=x"),
        ("get", "/api/v1/inventory/stock/SKU%00/"),
        ("get", "/api/v1/catalog/products/?search=%00"),
        ("get", "/api/v1/catalog/products/?search=lamp%00"),
        ("get", "/api/v1/integrations/handovers/?status=fail%00ed"),
        ("get", "/api/v1/catalog/products/?cursor=%00"),
    ],
)
def test_a_nul_in_the_path_or_query_string_is_400(client, staff_client, method, url):  # a 500 answered
    response = getattr(staff_client, method)(url)

    assert "NUL" in assert_problem(response, 400, "invalid")["detail"]


def test_a_nul_in_a_header_is_400(client):
    (sku,) = stocked_skus(3)
    checkout = ready_checkout(client, {sku: 1})

    response = complete(client, checkout["id"], key="key\x00")

    assert "NUL" in assert_problem(response, 400, "invalid")["detail"]
    assert complete(client, checkout["id"], key="key").status_code == 201
