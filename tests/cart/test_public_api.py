"""``cart.api`` as checkout uses it: reading a cart under the HTTP API's rule, taking an order out of it."""

import uuid

import pytest
from django.db import connection, transaction

from cart import api
from cart.data import CartData, CartLineData
from cart.models import Cart, CartLine
from tests.cart.conftest import add, lines_of, new_cart, product

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(api_client):
    product("A-1")
    product("B-1")
    token = new_cart(api_client)
    add(api_client, token, "A-1", 2)
    add(api_client, token, "B-1", 1)
    return token


def test_get_cart_returns_the_lines_as_data(filled, django_assert_num_queries):
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):  # one round trip
        cart = api.get_cart(token=filled, customer_id=None)

    assert cart == CartData(
        token=uuid.UUID(filled),
        customer_id=None,
        lines=(CartLineData(sku="A-1", quantity=2), CartLineData(sku="B-1", quantity=1)),
    )
    assert api.get_cart(token=uuid.UUID(filled), customer_id=7) == cart  # an anonymous cart: anyone


def test_get_cart_follows_the_http_rule_for_a_customers_cart(customer):
    ada = customer()
    token = new_cart(ada)

    assert api.get_cart(token=token, customer_id=ada.customer_id).customer_id == ada.customer_id
    assert api.get_cart(token=token, customer_id=None) is None
    assert api.get_cart(token=token, customer_id=ada.customer_id + 1) is None


@pytest.mark.parametrize("token", ["", "not-a-token", "00000000-0000-4000-8000-000000000000", uuid.uuid4()])
def test_get_cart_of_an_unknown_or_malformed_token_is_none(token):
    assert api.get_cart(token=token, customer_id=None) is None


ORDERED = [CartLineData(sku="A-1", quantity=2), CartLineData(sku="B-1", quantity=1)]


def test_remove_ordered_takes_out_what_was_ordered_and_keeps_the_cart(filled, api_client):
    api.remove_ordered(token=filled, lines=ORDERED)

    assert lines_of(filled) == []
    assert api.get_cart(token=filled, customer_id=None).lines == ()
    assert api_client.get(f"/api/v1/carts/{filled}/").json()["item_count"] == 0
    assert Cart.objects.filter(token=filled).exists()


def test_lines_added_or_grown_after_the_snapshot_stay(filled, api_client):
    """The customer went on shopping in another tab while paying for A-1 x2 and B-1 x1."""
    product("C-1")
    add(api_client, filled, "A-1", 3)  # A-1 is now 5
    add(api_client, filled, "C-1", 1)

    api.remove_ordered(token=uuid.UUID(filled), lines=ORDERED)

    assert lines_of(filled) == [("A-1", 3), ("C-1", 1)]


def test_a_line_shrunk_after_the_snapshot_goes_entirely(filled, api_client):
    line = CartLine.objects.get(cart__token=filled, sku="A-1")
    assert (
        api_client.patch(
            f"/api/v1/carts/{filled}/lines/{line.pk}/", {"quantity": 1}, format="json"
        ).status_code
        == 200
    )

    api.remove_ordered(token=filled, lines=ORDERED)

    assert lines_of(filled) == []


@pytest.mark.parametrize("token", ["", "not-a-token", uuid.uuid4()])
def test_remove_ordered_of_an_unknown_or_malformed_token_does_nothing(filled, token):
    api.remove_ordered(token=token, lines=ORDERED)

    assert lines_of(filled) == [("A-1", 2), ("B-1", 1)]


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_remove_ordered_refuses_what_is_not_an_ordered_quantity(filled, quantity):
    with pytest.raises(ValueError, match="ordered quantity"):
        api.remove_ordered(token=filled, lines=[CartLineData(sku="A-1", quantity=quantity)])

    assert lines_of(filled) == [("A-1", 2), ("B-1", 1)]


def test_remove_ordered_rolls_back_with_the_callers_transaction(filled):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        api.remove_ordered(token=filled, lines=ORDERED)
        raise Abort

    assert lines_of(filled) == [("A-1", 2), ("B-1", 1)]
