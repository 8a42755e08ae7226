"""
Checkout under real concurrency: parallel PostgreSQL connections released together.

Each thread has its own HTTP client and database connection; a barrier starts them at once.
PostgreSQL allows 100 connections here, so at most ``THREADS`` run together, each making several
attempts.
"""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from checkout import api as checkout_api
from checkout import services as checkout_services
from checkout.models import Order
from inventory import api as inventory_api
from tests.celery_worker import wait_for
from tests.checkout.support import cart_with, complete, ready_checkout, stocked_skus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 40


def run_together(jobs, threads=THREADS):
    """Run the callables of ``jobs`` on ``threads`` threads started at once; return their results."""
    results = [None] * len(jobs)
    barrier = threading.Barrier(min(threads, len(jobs)))

    def worker(indexes):
        try:
            barrier.wait()
            for index in indexes:
                try:
                    results[index] = jobs[index]()
                except Exception as exc:  # noqa: BLE001 - recorded and asserted on by the test
                    results[index] = exc
        finally:
            connections.close_all()

    slices = [list(range(start, len(jobs), threads)) for start in range(min(threads, len(jobs)))]
    pool = [threading.Thread(target=worker, args=(indexes,)) for indexes in slices]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool), "a thread hung (deadlock?)"
    return results


def checkout_job(cart_token):
    def job():
        response = APIClient().post("/api/v1/checkouts/", {"cart_token": cart_token}, format="json")
        return response.status_code, response.json().get("code")

    return job


def carts(count, lines_for):
    client = APIClient()
    return [cart_with(client, lines_for(index)) for index in range(count)]


def test_200_checkouts_of_one_on_stock_10_reserve_exactly_10():
    (sku,) = stocked_skus(10)
    tokens = carts(200, lambda index: {sku: 1})

    results = run_together([checkout_job(token) for token in tokens])

    outcomes = Counter(results)
    print(f"200 x 1 on stock 10: {dict(outcomes)}")
    assert outcomes == {(201, None): 10, (409, "insufficient_stock"): 190}
    stock = inventory_api.get_stock(sku=sku)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 10, 0)


def test_50_checkouts_of_three_on_stock_10_reserve_exactly_3():
    (sku,) = stocked_skus(10)
    tokens = carts(50, lambda index: {sku: 3})

    results = run_together([checkout_job(token) for token in tokens])

    outcomes = Counter(results)
    print(f"50 x 3 on stock 10: {dict(outcomes)}")
    assert outcomes == {(201, None): 3, (409, "insufficient_stock"): 47}
    stock = inventory_api.get_stock(sku=sku)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 9, 1)


def test_100_checkouts_over_the_same_5_skus_in_shuffled_order_never_deadlock():
    skus = stocked_skus(*([1000] * 5))
    shuffler = random.Random(7)

    def lines(index):
        order = skus[:]
        shuffler.shuffle(order)
        return dict.fromkeys(order, 2)

    tokens = carts(100, lines)

    results = run_together([checkout_job(token) for token in tokens])

    outcomes = Counter(results)
    print(f"100 checkouts over 5 shuffled SKUs: {dict(outcomes)}")
    assert outcomes == {(201, None): 100}
    availability = inventory_api.get_availability(skus=skus)
    assert {sku: availability[sku].reserved for sku in skus} == dict.fromkeys(skus, 200)


def test_20_parallel_completions_with_one_key_place_one_order():
    (sku,) = stocked_skus(5)
    client = APIClient()
    checkout = ready_checkout(client, {sku: 2})

    def job():
        response = complete(APIClient(), checkout["id"], key="same-key")
        return response.status_code, response.json().get("code"), response.get("Idempotent-Replayed")

    results = run_together([job] * 20, threads=20)

    statuses = Counter(status for status, _, _ in results)
    print(f"20 completions with one key: {dict(Counter(results))}")
    assert set(statuses) <= {201, 409}
    assert all(code == "request_in_progress" for status, code, _ in results if status == 409)
    fresh = [result for result in results if result[0] == 201 and result[2] is None]
    assert len(fresh) == 1
    assert Order.objects.count() == 1
    stock = inventory_api.get_stock(sku=sku)
    assert (stock.on_hand, stock.reserved) == (3, 0)
    assert connection.vendor == "postgresql"


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_hand_over_that_waited_for_a_cancel_to_commit_does_not_take_the_canceled_order():
    """
    The hand-over takes a paid order with one conditional UPDATE (``order_handover_take``). A
    cancel that locked the order first wins: the UPDATE waits for it, finds the order canceled
    when it commits, and the hand-over is refused (the order must never reach the ERP).
    """
    (sku,) = stocked_skus(5)
    client = APIClient()
    number = complete(client, ready_checkout(client, {sku: 1})["id"]).json()["number"]
    cancel_holds_its_lock, commit_the_cancel = threading.Event(), threading.Event()

    def cancel() -> None:
        with transaction.atomic():
            checkout_services.order_cancel(order=Order.objects.get(number=number))
            cancel_holds_its_lock.set()
            commit_the_cancel.wait(30)

    def take():
        cancel_holds_its_lock.wait(30)
        return checkout_api.begin_handover(number=number)

    jobs = [cancel, take]
    outcome: list = [None, None]

    def run(index: int) -> None:
        try:
            outcome[index] = jobs[index]()
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    assert cancel_holds_its_lock.wait(30)
    assert wait_for(_waiting_on_a_lock, seconds=30), "the hand-over did not wait for the cancel's lock"
    commit_the_cancel.set()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome[0] is None, outcome[0]
    assert isinstance(outcome[1], checkout_api.OrderCanceled), outcome[1]
    order = Order.objects.get(number=number)
    assert (order.status, order.handover_started_at) == (Order.Status.CANCELED, None)
