"""
Concurrent reservations on PostgreSQL, with real parallel connections released together: no
oversell, no deadlock. (PostgreSQL allows 100 connections: at most 40 threads here, each making
several attempts, each closing its connection at the end.)
"""

import random
import threading
import time
from collections import Counter

import pytest
from django.db import close_old_connections, connection

from inventory import api
from inventory.data import StockLine
from inventory.models import StockLevel
from tests.inventory.factories import levels, replayed, stock, stored

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(threads: int, attempts: int, work) -> Counter:
    """
    Run ``work(thread, attempt)`` ``attempts`` times in each of ``threads`` threads, started at
    the same moment; count the outcomes ("ok", an exception's class name).
    """
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            for attempt in range(attempts):
                try:
                    work(index, attempt)
                    outcome = "ok"
                except api.InsufficientStock:
                    outcome = "InsufficientStock"
                except api.ReservationExpired:
                    outcome = "ReservationExpired"
                except Exception as exc:  # noqa: BLE001  (a deadlock, say: what this test looks for)
                    outcome = type(exc).__name__
                    with lock:
                        errors.append(exc)
                with lock:
                    outcomes.append(outcome)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in pool), "a worker hangs"
    assert not errors, errors[:3]
    return Counter(outcomes)


class Watcher:
    """Samples the stock rows from its own connection while the workers run."""

    def __init__(self, sku: str):
        self.sku = sku
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.samples.extend(
                    StockLevel.objects.filter(sku=self.sku).values_list("on_hand", "reserved")
                )
                time.sleep(0.005)
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def report(capsys, title: str, counts: Counter, **extra) -> None:
    with capsys.disabled():
        print(f"\n[concurrency] {title}: {dict(counts)} {extra}")


def test_200_reservations_of_one_on_a_stock_of_10(capsys):
    stock("HOT-1", 10)

    def work(thread, attempt):
        api.reserve(reference=f"c-{thread}-{attempt}", lines=[StockLine("HOT-1", 1)], ttl_seconds=600)

    with Watcher("HOT-1") as watcher:
        counts = run_together(40, 5, work)

    availability = api.get_availability(skus=["HOT-1"])["HOT-1"]
    report(capsys, "40 threads x 5 reserve(1) on stock 10", counts, reserved=availability.reserved)
    assert counts == {"ok": 10, "InsufficientStock": 190}
    assert (availability.on_hand, availability.reserved, availability.available) == (10, 10, 0)
    assert watcher.samples and all(0 <= reserved <= on_hand == 10 for on_hand, reserved in watcher.samples)
    assert stored() == replayed()


def test_50_reservations_of_three_on_a_stock_of_10(capsys):
    stock("HOT-3", 4, warehouse="near", priority=1)
    stock("HOT-3", 6, warehouse="far", priority=2)

    def work(thread, attempt):
        api.reserve(reference=f"c-{thread}-{attempt}", lines=[StockLine("HOT-3", 3)], ttl_seconds=600)

    counts = run_together(25, 2, work)

    availability = api.get_availability(skus=["HOT-3"])["HOT-3"]
    report(capsys, "25 threads x 2 reserve(3) on stock 10", counts, reserved=availability.reserved)
    assert counts == {"ok": 3, "InsufficientStock": 47}
    assert (availability.reserved, availability.available) == (9, 1)
    assert stored() == replayed()


def test_100_reservations_over_the_same_skus_in_shuffled_order_do_not_deadlock(capsys):
    skus = [f"MULTI-{index}" for index in range(5)]
    for sku in skus:
        # 150 in the preferred warehouse, so that later reservations split across both.
        stock(sku, 150, warehouse="near", priority=1)
        stock(sku, 1000, warehouse="far", priority=2)

    def work(thread, attempt):
        order = random.sample(skus, len(skus))
        api.reserve(
            reference=f"c-{thread}-{attempt}", lines=[StockLine(sku, 2) for sku in order], ttl_seconds=600
        )

    counts = run_together(25, 4, work)

    availability = api.get_availability(skus=skus)
    report(
        capsys,
        "25 threads x 4 reserve(5 SKUs x 2, shuffled)",
        counts,
        reserved=availability[skus[0]].reserved,
    )
    assert counts == {"ok": 100}
    assert {sku: availability[sku].reserved for sku in skus} == dict.fromkeys(skus, 200)
    assert stored() == replayed()


def test_reserve_and_commit_together_sell_exactly_the_stock(capsys):
    stock("LAST-ONES", 10)

    def work(thread, attempt):
        reference = f"c-{thread}-{attempt}"
        api.reserve(reference=reference, lines=[StockLine("LAST-ONES", 1)], ttl_seconds=600)
        api.commit(reference=reference, order_number=f"ORD-{thread}-{attempt}")

    with Watcher("LAST-ONES") as watcher:
        counts = run_together(40, 5, work)

    availability = api.get_availability(skus=["LAST-ONES"])["LAST-ONES"]
    report(capsys, "40 threads x 5 reserve(1)+commit on stock 10", counts, on_hand=availability.on_hand)
    assert counts == {"ok": 10, "InsufficientStock": 190}
    assert (availability.on_hand, availability.reserved) == (0, 0)
    assert all(0 <= reserved <= on_hand for on_hand, reserved in watcher.samples)
    assert stored() == replayed()
    close_old_connections()


def test_stock_feeds_and_reservations_on_the_same_skus_do_not_deadlock(capsys):
    """Feed batches name the SKUs in any order; every write locks them in the one order."""
    skus = [f"FEED-{index}" for index in range(20)]
    for sku in skus:
        stock(sku, 100, warehouse="near", priority=1)
        stock(sku, 100, warehouse="far", priority=2)

    def work(thread, attempt):
        if thread % 4 == 0:  # a feed: every SKU in both warehouses, in shuffled order
            levels = [(sku, warehouse, 100 + attempt) for sku in skus for warehouse in ("near", "far")]
            result = api.set_on_hand_many(levels=random.sample(levels, len(levels)), reason="erp-sync")
            assert result.rejected == {}
        else:
            order = random.sample(skus, 5)
            api.reserve(
                reference=f"c-{thread}-{attempt}", lines=[StockLine(sku, 1) for sku in order], ttl_seconds=600
            )

    counts = run_together(20, 5, work)

    availability = api.get_availability(skus=skus)
    report(capsys, "5 feed threads + 15 reserving threads x 5", counts)
    assert counts == {"ok": 100}
    assert sum(availability[sku].reserved for sku in skus) == 15 * 5 * 5
    # Each feed is one transaction: the last one committed set every level.
    final = {on_hand for sku in skus for on_hand, _ in levels(sku).values()}
    assert len(final) == 1 and final <= set(range(100, 105))
    assert stored() == replayed()
