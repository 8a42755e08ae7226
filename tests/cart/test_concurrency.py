"""Concurrent requests on one cart or for one customer (PostgreSQL: row locks)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from cart import errors, services
from cart.models import Cart, CartLine
from tests.cart.conftest import product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8


def run_concurrently(action, count: int = WORKERS) -> list:
    """Run ``action`` in ``count`` threads started together, each with its own connection."""
    barrier = threading.Barrier(count)

    def worker(_):
        try:
            barrier.wait(timeout=10)
            return action()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def test_concurrent_adds_to_one_cart_lose_no_update():
    assert connection.vendor == "postgresql"
    product("A-1", on_hand=1000)
    for number in range(WORKERS):
        product(f"N-{number}", on_hand=1000)
    cart, _ = services.cart_create()
    skus = iter([f"N-{number}" for number in range(WORKERS)])
    lock = threading.Lock()

    def add_both():
        with lock:
            sku = next(skus)
        services.cart_line_add(token=cart.token, customer_id=cart.customer_id, sku="A-1", quantity=3)
        services.cart_line_add(token=cart.token, customer_id=cart.customer_id, sku=sku, quantity=1)

    run_concurrently(add_both)

    lines = dict(CartLine.objects.filter(cart=cart).values_list("sku", "quantity"))
    assert lines.pop("A-1") == 3 * WORKERS
    assert lines == {f"N-{number}": 1 for number in range(WORKERS)}


def test_concurrent_adds_never_pass_the_line_cap(settings):
    settings.CART_MAX_LINES = 3
    for number in range(WORKERS):
        product(f"N-{number}", on_hand=10)
    cart, _ = services.cart_create()
    skus = iter([f"N-{number}" for number in range(WORKERS)])
    lock = threading.Lock()

    def add_one():
        with lock:
            sku = next(skus)
        try:
            services.cart_line_add(token=cart.token, customer_id=cart.customer_id, sku=sku, quantity=1)
        except errors.TooManyLines:
            return "refused"
        return "added"

    outcomes = run_concurrently(add_one)

    assert outcomes.count("added") == 3
    assert CartLine.objects.filter(cart=cart).count() == 3


def test_concurrent_creates_give_a_customer_one_cart():
    results = run_concurrently(lambda: services.cart_create(customer_id=42))

    assert len({cart.pk for cart, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Cart.objects.filter(customer_id=42).count() == 1


def test_concurrent_merges_of_one_cart_merge_it_once():
    product("A-1", on_hand=1000)
    anonymous, _ = services.cart_create()
    services.cart_line_add(token=anonymous.token, customer_id=None, sku="A-1", quantity=2)

    def merge():
        try:
            return services.cart_merge(cart=anonymous, customer_id=42).pk
        except errors.CartNotFound:
            return None

    results = run_concurrently(merge)

    assert len({pk for pk in results if pk is not None}) == 1
    assert results.count(None) == WORKERS - 1
    target = Cart.objects.get(customer_id=42)
    assert list(CartLine.objects.filter(cart=target).values_list("sku", "quantity")) == [("A-1", 2)]
    assert not Cart.objects.filter(pk=anonymous.pk).exists()
