"""A guest reads an order back with its access token in the X-Order-Token header (or ?token=)."""

import logging

import pytest
from rest_framework.test import APIClient

from tests.checkout.support import complete, ready_checkout, stocked_skus
from tests.log_capture import captured_logs

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    client = APIClient()
    (sku,) = stocked_skus(3)
    return complete(client, ready_checkout(client, {sku: 1})["id"]).json()


def read(order, **headers):
    return APIClient().get(f"/api/v1/orders/{order['number']}/", **headers)


def test_the_header_reads_the_order(order):
    response = read(order, HTTP_X_ORDER_TOKEN=order["access_token"])

    assert response.status_code == 200, response.content
    assert response.json()["number"] == order["number"]
    assert "access_token" not in response.json()


@pytest.mark.parametrize("token", ["wrong", "x" * 200])
def test_a_wrong_header_is_404_even_with_the_right_query_token(order, token):
    response = APIClient().get(
        f"/api/v1/orders/{order['number']}/", {"token": order["access_token"]}, HTTP_X_ORDER_TOKEN=token
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_the_query_token_of_links_in_emails_still_works_and_a_blank_header_counts_as_none(order):
    url = f"/api/v1/orders/{order['number']}/"

    assert APIClient().get(url, {"token": order["access_token"]}).status_code == 200
    assert APIClient().get(url, {"token": order["access_token"]}, HTTP_X_ORDER_TOKEN=" ").status_code == 200
    assert APIClient().get(url).status_code == 404


def test_a_header_too_long_is_400_invalid(order):
    response = read(order, HTTP_X_ORDER_TOKEN="x" * 201)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "X-Order-Token" in response.json()["errors"]


def test_the_header_cancels_the_order(order):
    response = APIClient().post(
        f"/api/v1/orders/{order['number']}/cancel/", HTTP_X_ORDER_TOKEN=order["access_token"]
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"


def test_the_schema_documents_the_header_first_and_the_query_token_for_links(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path, method in (("/api/v1/orders/{number}/", "get"), ("/api/v1/orders/{number}/cancel/", "post")):
        parameters = [p for p in schema["paths"][path][method]["parameters"] if p["in"] != "path"]
        assert [(p["in"], p["name"]) for p in parameters] == [("header", "X-Order-Token"), ("query", "token")]
        assert "X-Order-Token" in parameters[1]["description"]  # the query token points at the header


def test_no_log_record_of_a_guests_order_read_holds_its_token(order):
    """
    Every record the settings' handler prints during a guest's reads (JSON and console lines):
    with the header, with ``?token=``, and the 404 of a wrong header, which Django logs with the
    request (whose repr holds the query string).
    """
    token = order["access_token"]
    url = f"/api/v1/orders/{order['number']}/"
    with captured_logs() as lines:
        assert read(order, HTTP_X_ORDER_TOKEN=token).status_code == 200
        assert APIClient().get(url, {"token": token}).status_code == 200
        assert APIClient().get(url, {"token": token}, HTTP_X_ORDER_TOKEN="wrong").status_code == 404
        link = f"https://shop.example.com{url}?token={token}"
        logging.getLogger("checkout.anything").warning("A link: %s", link)

    assert any("Not Found" in line for line in lines) and any("A link" in line for line in lines)
    assert not [line for line in lines if token in line]
