"""The database guards the cart's invariants too, whatever code writes to it."""

import pytest
from django.db import IntegrityError, transaction

from cart.models import Cart, CartLine

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("quantity", [0, 101])
def test_a_line_quantity_is_1_to_100(quantity):
    cart = Cart.objects.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        CartLine.objects.create(cart=cart, sku="A-1", quantity=quantity)


def test_a_cart_has_one_line_per_sku():
    cart = Cart.objects.create()
    CartLine.objects.create(cart=cart, sku="A-1", quantity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartLine.objects.create(cart=cart, sku="A-1", quantity=2)


def test_a_customer_has_at_most_one_cart_while_anonymous_carts_are_many():
    Cart.objects.create(customer_id=7)
    Cart.objects.create()
    Cart.objects.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        Cart.objects.create(customer_id=7)


def test_tokens_are_random_uuid4s():
    first, second = Cart.objects.create(), Cart.objects.create()

    assert first.token.version == second.token.version == 4
    assert first.token != second.token
