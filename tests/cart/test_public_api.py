"""``cart.api`` as checkout uses it: reading a cart under the HTTP API's rule, and clearing it."""

import uuid

import pytest
from django.db import transaction

from cart import api
from cart.data import CartData, CartLineData
from cart.models import Cart
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
    with django_assert_num_queries(2):
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


def test_get_cart_may_lock_the_cart_for_the_callers_transaction(filled):
    with transaction.atomic():
        cart = api.get_cart(token=filled, customer_id=None, for_update=True)
        api.clear_cart(token=cart.token)

    assert lines_of(filled) == []


def test_clear_cart_removes_every_line_and_keeps_the_cart(filled, api_client):
    api.clear_cart(token=filled)

    assert lines_of(filled) == []
    assert api.get_cart(token=filled, customer_id=None).lines == ()
    assert api_client.get(f"/api/v1/carts/{filled}/").json()["item_count"] == 0

    api.clear_cart(token=uuid.UUID(filled))  # idempotent
    assert Cart.objects.filter(token=filled).exists()


@pytest.mark.parametrize("token", ["", "not-a-token", uuid.uuid4()])
def test_clear_cart_of_an_unknown_or_malformed_token_does_nothing(filled, token):
    api.clear_cart(token=token)

    assert lines_of(filled) == [("A-1", 2), ("B-1", 1)]


def test_clear_cart_rolls_back_with_the_callers_transaction(filled):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        api.clear_cart(token=filled)
        raise Abort

    assert lines_of(filled) == [("A-1", 2), ("B-1", 1)]
