"""The inventory's api: availability, reservations, commit, return, on-hand changes, the ledger."""

import re
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from inventory import api
from inventory.data import Availability, LevelsSet, Shortage, StockDetail, StockLine, WarehouseStock
from inventory.events import StockChanged
from inventory.models import Reservation, ReservationLine, StockLevel, StockMovement
from tests.events import forget_published, published
from tests.inventory.factories import WarehouseFactory, expire, levels, lines, replayed, stock, stored

pytestmark = pytest.mark.django_db

TTL = 900


def reserve(reference, **quantities):
    return api.reserve(reference=reference, lines=lines(**quantities), ttl_seconds=TTL)


def movements(**filters):
    """The ledger rows as ``(kind, sku, warehouse code, on_hand_delta, reserved_delta, reference)``."""
    return sorted(
        StockMovement.objects.filter(**filters).values_list(
            "kind", "sku", "warehouse__code", "on_hand_delta", "reserved_delta", "reference"
        )
    )


def stock_events():
    """The ``StockChanged`` payloads in the outbox, oldest first."""
    return published(StockChanged)


class TestAvailability:
    def test_sums_warehouses_and_gives_unknown_skus_zeros(self):
        stock("A", 5, warehouse="north")
        stock("A", 3, warehouse="south")
        stock("B", 2, warehouse="north")
        reserve("checkout-1", A=4)

        result = api.get_availability(skus=["A", "B", "NOPE"])

        assert result == {
            "A": Availability(sku="A", on_hand=8, reserved=4, available=4),
            "B": Availability(sku="B", on_hand=2, reserved=0, available=2),
            "NOPE": Availability(sku="NOPE", on_hand=0, reserved=0, available=0),
        }

    def test_is_one_query_for_any_number_of_skus(self, django_assert_num_queries):
        for index in range(30):
            stock(f"SKU-{index}", index, warehouse="north")
            stock(f"SKU-{index}", 1, warehouse="south")
        reserve("checkout-1", **{"SKU-3": 2, "SKU-7": 1})

        with django_assert_num_queries(1):
            one = api.get_availability(skus=["SKU-3"])
        with django_assert_num_queries(1):
            many = api.get_availability(skus=[f"SKU-{index}" for index in range(30)] + ["UNKNOWN"])
        with django_assert_num_queries(0):
            assert api.get_availability(skus=[]) == {}

        assert one["SKU-3"].available == 2
        assert many["SKU-7"].available == 7 and many["SKU-29"].available == 30
        assert len(many) == 31

    def test_expired_reservations_count_for_nobody_before_any_clean_up(self):
        stock("A", 5)
        reserve("checkout-1", A=3)
        expire("checkout-1")

        assert api.get_availability(skus=["A"])["A"] == Availability(
            sku="A", on_hand=5, reserved=0, available=5
        )
        assert api.get_stock(sku="A").warehouses == (WarehouseStock(code="main", on_hand=5, reserved=0),)
        assert levels("A") == {"main": (5, 3)}  # still stored: nothing has cleaned it up yet

    def test_an_inactive_warehouse_sells_nothing_but_keeps_its_stock(self):
        from inventory import services
        from inventory.models import Warehouse

        stock("A", 5, warehouse="north")
        stock("A", 2, warehouse="closed")
        warehouse = Warehouse.objects.get(code="closed")
        warehouse.is_active = False
        services.warehouse_save(warehouse=warehouse)

        assert api.get_availability(skus=["A"])["A"] == Availability(
            sku="A", on_hand=7, reserved=0, available=5
        )
        with pytest.raises(api.InsufficientStock):
            reserve("checkout-1", A=6)
        assert stock_events()[-1] == {"sku": "A", "available": 5, "in_stock": True, "in_stock_changed": True}

    def test_get_stock_lists_warehouses_in_priority_order(self):
        stock("A", 5, warehouse="second", priority=2)
        stock("A", 3, warehouse="first", priority=1)
        reserve("checkout-1", A=4)

        assert api.get_stock(sku="A") == StockDetail(
            sku="A",
            on_hand=8,
            reserved=4,
            available=4,
            warehouses=(
                WarehouseStock(code="first", on_hand=3, reserved=3),
                WarehouseStock(code="second", on_hand=5, reserved=1),
            ),
        )
        assert api.get_stock(sku="UNKNOWN") == StockDetail(
            sku="UNKNOWN", on_hand=0, reserved=0, available=0, warehouses=()
        )


class TestReserve:
    def test_reserves_and_reports_the_reservation(self):
        stock("A", 5)
        stock("B", 5)

        info = api.reserve(
            reference="checkout-1",
            lines=[StockLine("B", 1), StockLine("A", 2), StockLine("B", 2)],
            ttl_seconds=TTL,
        )

        assert isinstance(info.id, uuid.UUID)
        assert info.reference == "checkout-1"
        assert info.lines == (StockLine("A", 2), StockLine("B", 3))  # same SKU added up
        reservation = Reservation.objects.get()
        assert reservation.pk == info.id and reservation.expires_at == info.expires_at
        assert (info.expires_at - reservation.created_at).total_seconds() == TTL
        assert levels("A") == {"main": (5, 2)} and levels("B") == {"main": (5, 3)}
        assert movements(kind="reservation") == [
            ("reservation", "A", "main", 0, 2, "checkout-1"),
            ("reservation", "B", "main", 0, 3, "checkout-1"),
        ]
        assert stock_events()[-2:] == [
            {"sku": "A", "available": 3, "in_stock": True, "in_stock_changed": False},
            {"sku": "B", "available": 2, "in_stock": True, "in_stock_changed": False},
        ]

    def test_all_or_nothing_naming_every_short_sku(self):
        stock("A", 5)
        stock("B", 1)
        stock("C", 2)
        events_before = len(stock_events())

        with pytest.raises(api.InsufficientStock) as raised:
            reserve("checkout-1", A=5, B=2, C=3, D=1)

        assert raised.value.shortages == [
            Shortage(sku="B", requested=2, available=1),
            Shortage(sku="C", requested=3, available=2),
            Shortage(sku="D", requested=1, available=0),
        ]
        assert "B (1 of 2 available)" in str(raised.value)
        assert not Reservation.objects.exists()
        assert levels("A") == {"main": (5, 0)}
        assert not StockMovement.objects.exclude(kind="receipt").exists()
        assert len(stock_events()) == events_before

    def test_takes_from_warehouses_in_priority_order_splitting_a_line(self):
        stock("A", 5, warehouse="far", priority=5)
        stock("A", 3, warehouse="near", priority=1)
        stock("A", 9, warehouse="middle", priority=3)

        reserve("checkout-1", A=4)
        reserve("checkout-2", A=10)

        assert levels("A") == {"near": (3, 3), "middle": (9, 9), "far": (5, 2)}
        assert sorted(
            ReservationLine.objects.values_list("reservation__reference", "warehouse__code", "quantity")
        ) == [
            ("checkout-1", "middle", 1),
            ("checkout-1", "near", 3),
            ("checkout-2", "far", 2),
            ("checkout-2", "middle", 8),
        ]
        assert movements(kind="reservation", reference="checkout-1") == [
            ("reservation", "A", "middle", 0, 1, "checkout-1"),
            ("reservation", "A", "near", 0, 3, "checkout-1"),
        ]

    def test_the_same_reference_replaces_its_reservation(self):
        stock("A", 5)
        stock("B", 5)
        first = reserve("checkout-1", A=5)

        second = reserve("checkout-1", A=2, B=1)

        assert second.id != first.id
        assert list(Reservation.objects.values_list("pk", flat=True)) == [second.id]
        assert levels("A") == {"main": (5, 2)} and levels("B") == {"main": (5, 1)}
        assert movements(reference="checkout-1", kind="release") == [
            ("release", "A", "main", 0, -5, "checkout-1")
        ]
        assert stored() == replayed()

    def test_its_own_reservation_counts_as_free_when_replacing_it(self):
        stock("A", 5)
        reserve("checkout-1", A=4)

        reserve("checkout-1", A=5)

        assert levels("A") == {"main": (5, 5)}

    def test_a_replacement_that_cannot_be_had_leaves_the_old_reservation(self):
        stock("A", 5)
        first = reserve("checkout-1", A=2)

        with pytest.raises(api.InsufficientStock) as raised:
            reserve("checkout-1", A=6)

        assert raised.value.shortages == [Shortage(sku="A", requested=6, available=5)]
        assert list(Reservation.objects.values_list("pk", flat=True)) == [first.id]
        assert levels("A") == {"main": (5, 2)}

    def test_expired_lines_on_the_locked_rows_are_reclaimed_first(self):
        stock("A", 5)
        stock("B", 5)
        reserve("stale", A=5, B=1)
        expire("stale")

        reserve("fresh", A=5)

        # The stale reservation's line on A went back (ledger), its line on B waits for the
        # clean-up: only A's rows were locked.
        assert levels("A") == {"main": (5, 5)} and levels("B") == {"main": (5, 1)}
        assert movements(reference="stale", kind="release") == [("release", "A", "main", 0, -5, "stale")]
        assert set(Reservation.objects.values_list("reference", flat=True)) == {"stale", "fresh"}

        assert api.release_expired() == 1
        assert levels("B") == {"main": (5, 0)}
        assert list(Reservation.objects.values_list("reference", flat=True)) == ["fresh"]

    def test_an_expired_reservation_reclaimed_completely_is_deleted(self):
        stock("A", 5)
        reserve("stale", A=2)
        expire("stale")

        reserve("fresh", A=5)

        assert list(Reservation.objects.values_list("reference", flat=True)) == ["fresh"]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"lines": []}, "Nothing to reserve"),
            ({"lines": [StockLine("A", 0)]}, "positive"),
            ({"lines": [StockLine("A", -1)]}, "quantity"),
            ({"lines": [StockLine("A", 1.0)]}, "quantity"),
            ({"lines": [StockLine("A", True)]}, "quantity"),
            ({"lines": [StockLine("bad sku", 1)]}, "Not a SKU"),
            ({"reference": ""}, "reference"),
            ({"reference": "x" * 101}, "reference"),
            ({"ttl_seconds": 0}, "ttl_seconds"),
            ({"ttl_seconds": 10**9}, "ttl_seconds"),
        ],
    )
    def test_refuses_bad_input(self, kwargs, message):
        stock("A", 5)
        arguments = {"reference": "checkout-1", "lines": [StockLine("A", 1)], "ttl_seconds": TTL, **kwargs}

        with pytest.raises(ValueError, match=message):
            api.reserve(**arguments)

    def test_query_count_does_not_grow_with_the_number_of_lines(self):
        skus = [f"SKU-{index}" for index in range(10)]
        for sku in skus:
            stock(sku, 100, warehouse="near", priority=1)
            stock(sku, 100, warehouse="far", priority=2)
        reserve("warm-up", **{skus[0]: 1})

        def count(reference, quantities):
            with CaptureQueriesContext(connection) as captured:
                api.reserve(reference=reference, lines=lines(**quantities), ttl_seconds=TTL)
            into_outbox = re.compile(r'INTO "?kernel_outboxmessage\b')
            outbox = [query["sql"] for query in captured if into_outbox.search(query["sql"])]
            assert len(outbox) == 1 and outbox[0].count("inventory.StockChanged") == len(quantities)
            return len(captured)

        # Each time: a reservation to replace, and an expired one on the same SKUs to reclaim
        # and delete; 150 of SKU-0 split across both warehouses.
        reserve("one", **{skus[0]: 1})
        reserve("stale-one", **{skus[0]: 1})
        expire("stale-one")
        one = count("one", {skus[0]: 150})
        reserve("ten", **dict.fromkeys(skus, 1))
        reserve("stale-ten", **dict.fromkeys(skus, 1))
        expire("stale-ten")
        ten = count("ten", dict.fromkeys(skus, 40))

        assert one == ten
        print(f"reserve: {one} queries for 1 line, {ten} for 10 lines")


class TestRelease:
    def test_releases_and_is_idempotent(self):
        stock("A", 5)
        reserve("checkout-1", A=3)

        api.release(reference="checkout-1")
        api.release(reference="checkout-1")
        api.release(reference="never-reserved")

        assert levels("A") == {"main": (5, 0)}
        assert not Reservation.objects.exists() and not ReservationLine.objects.exists()
        assert movements(kind="release") == [("release", "A", "main", 0, -3, "checkout-1")]
        assert stock_events()[-1] == {"sku": "A", "available": 5, "in_stock": True, "in_stock_changed": False}

    def test_an_expired_reservation_releases_as_well(self):
        stock("A", 5)
        reserve("checkout-1", A=3)
        expire("checkout-1")

        api.release(reference="checkout-1")

        assert levels("A") == {"main": (5, 0)}
        assert not Reservation.objects.exists()


class TestCommit:
    def test_allocates_the_reservation_to_the_order(self):
        stock("A", 5, warehouse="near", priority=1)
        stock("A", 5, warehouse="far", priority=2)
        stock("B", 5, warehouse="near", priority=1)
        reserve("checkout-1", A=7, B=1)
        events_before = len(stock_events())

        api.commit(reference="checkout-1", order_number="ORD-1")

        assert levels("A") == {"near": (0, 0), "far": (3, 0)}
        assert levels("B") == {"near": (4, 0)}
        assert movements(kind="allocation") == [
            ("allocation", "A", "far", -2, -2, "ORD-1"),
            ("allocation", "A", "near", -5, -5, "ORD-1"),
            ("allocation", "B", "near", -1, -1, "ORD-1"),
        ]
        assert not Reservation.objects.exists() and not ReservationLine.objects.exists()
        assert len(stock_events()) == events_before  # what was available stays available

    def test_a_second_commit_of_the_order_does_nothing(self):
        stock("A", 5)
        reserve("checkout-1", A=2)
        api.commit(reference="checkout-1", order_number="ORD-1")

        api.commit(reference="checkout-1", order_number="ORD-1")

        assert levels("A") == {"main": (3, 0)}
        assert StockMovement.objects.filter(kind="allocation").count() == 1

    def test_runs_inside_the_callers_transaction(self):
        stock("A", 5)
        reserve("checkout-1", A=2)

        with pytest.raises(RuntimeError), transaction.atomic():
            api.commit(reference="checkout-1", order_number="ORD-1")
            assert levels("A") == {"main": (3, 0)}
            raise RuntimeError("the order could not be saved")

        assert levels("A") == {"main": (5, 2)}
        assert Reservation.objects.filter(reference="checkout-1").exists()

    def test_a_failed_commit_leaves_the_callers_transaction_usable(self):
        stock("A", 1)
        reserve("checkout-1", A=1)
        expire("checkout-1")
        reserve("someone-else", A=1)

        with transaction.atomic():
            with pytest.raises(api.ReservationExpired):
                api.commit(reference="checkout-1", order_number="ORD-1")
            assert StockLevel.objects.count() == 1

    def test_an_expired_reservation_is_taken_again_if_the_stock_is_there(self):
        stock("A", 5, warehouse="near", priority=1)
        stock("A", 5, warehouse="far", priority=2)
        reserve("checkout-1", A=7)
        expire("checkout-1")
        reserve("other", A=2)  # reclaims the expired lines on A, then takes from "near"

        api.commit(reference="checkout-1", order_number="ORD-1")

        assert levels("A") == {"near": (2, 2), "far": (1, 0)}
        assert movements(kind="allocation") == [
            ("allocation", "A", "far", -4, 0, "ORD-1"),
            ("allocation", "A", "near", -3, 0, "ORD-1"),
        ]
        assert list(Reservation.objects.values_list("reference", flat=True)) == ["other"]
        assert stored() == replayed()

    def test_an_expired_reservation_not_yet_cleaned_up_is_taken_again(self):
        stock("A", 5)
        reserve("checkout-1", A=3)
        expire("checkout-1")

        api.commit(reference="checkout-1", order_number="ORD-1")

        assert levels("A") == {"main": (2, 0)}
        assert movements(reference="checkout-1") == [
            ("release", "A", "main", 0, -3, "checkout-1"),
            ("reservation", "A", "main", 0, 3, "checkout-1"),
        ]
        assert movements(reference="ORD-1") == [("allocation", "A", "main", -3, 0, "ORD-1")]
        assert not Reservation.objects.exists()
        assert stock_events()[-1] == {"sku": "A", "available": 2, "in_stock": True, "in_stock_changed": False}

    def test_a_released_reservation_is_taken_again(self):
        stock("A", 5)
        reserve("checkout-1", A=3)
        api.release(reference="checkout-1")

        api.commit(reference="checkout-1", order_number="ORD-1")

        assert levels("A") == {"main": (2, 0)}

    def test_raises_reservation_expired_when_the_stock_is_gone(self):
        stock("A", 5)
        stock("B", 5)
        reserve("checkout-1", A=4, B=1)
        expire("checkout-1")
        reserve("other", A=3)

        with pytest.raises(api.ReservationExpired) as raised:
            api.commit(reference="checkout-1", order_number="ORD-1")

        assert raised.value.shortages == [Shortage(sku="A", requested=4, available=2)]
        assert not StockMovement.objects.filter(kind="allocation").exists()
        assert levels("A") == {"main": (5, 3)}

    def test_raises_reservation_expired_for_a_reference_never_reserved(self):
        with pytest.raises(api.ReservationExpired, match="Nothing was reserved") as raised:
            api.commit(reference="never", order_number="ORD-1")
        assert raised.value.shortages == []


class TestReturnOrder:
    def test_puts_the_stock_back_once(self):
        stock("A", 5, warehouse="near", priority=1)
        stock("A", 5, warehouse="far", priority=2)
        reserve("checkout-1", A=7)
        api.commit(reference="checkout-1", order_number="ORD-1")

        api.return_order(order_number="ORD-1")
        api.return_order(order_number="ORD-1")
        api.return_order(order_number="NO-SUCH-ORDER")

        assert levels("A") == {"near": (5, 0), "far": (5, 0)}
        assert movements(kind="return") == [
            ("return", "A", "far", 2, 0, "ORD-1"),
            ("return", "A", "near", 5, 0, "ORD-1"),
        ]
        assert stock_events()[-1] == {
            "sku": "A",
            "available": 10,
            "in_stock": True,
            "in_stock_changed": False,
        }


class TestOnHand:
    def test_set_creates_the_row_and_writes_receipts_and_adjustments(self):
        WarehouseFactory(code="main")

        detail = api.set_on_hand(sku="A", warehouse="main", on_hand=10, reason="receipt")
        api.set_on_hand(sku="A", warehouse="main", on_hand=8)
        api.adjust_on_hand(sku="A", warehouse="main", delta=5, reason="receipt")
        api.adjust_on_hand(sku="A", warehouse="main", delta=-1, reason="damaged")
        api.adjust_on_hand(sku="A", warehouse="main", delta=2)
        final = api.set_on_hand(sku="A", warehouse="main", on_hand=14, reason="receipt")  # no change

        assert detail == StockDetail(
            sku="A", on_hand=10, reserved=0, available=10, warehouses=(WarehouseStock("main", 10, 0),)
        )
        assert final.on_hand == 14
        assert list(
            StockMovement.objects.order_by("id").values_list(
                "kind", "on_hand_delta", "reserved_delta", "reference"
            )
        ) == [
            ("receipt", 10, 0, "receipt"),
            ("adjustment", -2, 0, "adjustment"),
            ("receipt", 5, 0, "receipt"),
            ("adjustment", -1, 0, "damaged"),
            ("adjustment", 2, 0, "adjustment"),
        ]
        assert [event["available"] for event in stock_events()] == [10, 8, 13, 12, 14]

    def test_setting_below_reserved_is_refused(self):
        stock("A", 5)
        reserve("checkout-1", A=3)

        with pytest.raises(api.BelowReserved) as raised:
            api.set_on_hand(sku="A", warehouse="main", on_hand=2)
        with pytest.raises(ValueError, match="reserved"):
            api.adjust_on_hand(sku="A", warehouse="main", delta=-3)

        assert raised.value.reserved == 3
        assert levels("A") == {"main": (5, 3)}
        assert api.set_on_hand(sku="A", warehouse="main", on_hand=3).available == 0

    def test_expired_reservations_do_not_hold_on_hand_up(self):
        stock("A", 5)
        reserve("checkout-1", A=3)
        expire("checkout-1")

        assert api.set_on_hand(sku="A", warehouse="main", on_hand=0).on_hand == 0
        assert levels("A") == {"main": (0, 0)}
        assert not Reservation.objects.exists()

    def test_an_unknown_warehouse_is_refused(self):
        with pytest.raises(api.UnknownWarehouse):
            api.set_on_hand(sku="A", warehouse="nowhere", on_hand=1)
        with pytest.raises(api.UnknownWarehouse):
            api.adjust_on_hand(sku="A", warehouse="nowhere", delta=1)
        assert not StockLevel.objects.exists()

    @pytest.mark.parametrize("on_hand", [-1, 1.5, "3", None, True, 2**63])
    def test_set_refuses_what_is_not_a_quantity(self, on_hand):
        WarehouseFactory(code="main")
        with pytest.raises(ValueError, match="on_hand"):
            api.set_on_hand(sku="A", warehouse="main", on_hand=on_hand)

    def test_adjust_beyond_the_maximum_is_refused(self):
        stock("A", 2**63 - 1)
        with pytest.raises(ValueError, match="exceed"):
            api.adjust_on_hand(sku="A", warehouse="main", delta=1)

    def test_ensure_warehouse_is_idempotent_and_validates(self):
        api.ensure_warehouse(code="main", name="Main", priority=1)
        api.ensure_warehouse(code="main", name="Main hall", priority=2)

        from inventory.models import Warehouse

        assert list(Warehouse.objects.values_list("code", "name", "priority")) == [("main", "Main hall", 2)]
        with pytest.raises(ValueError):
            api.ensure_warehouse(code="not a slug", name="X")


class TestSetOnHandMany:
    """``set_on_hand_many``: a stock feed's batch, row by row as ``set_on_hand`` but in bulk."""

    def test_applies_each_row_as_set_on_hand_would(self):
        stock("A", 5)
        stock("B", 3, warehouse="north", priority=1)
        forget_published()
        before = StockMovement.objects.count()

        result = api.set_on_hand_many(
            levels=[
                ("A", "main", 8),
                ("A", "north", 2),
                ("B", "north", 3),
                ("C", "main", 0),
                ("B", "main", 1),
            ],
            reason="erp-sync",
        )

        assert result == LevelsSet(changed=3, unchanged=2, rejected={})
        assert (levels("A"), levels("B"), levels("C")) == (
            {"main": (8, 0), "north": (2, 0)},
            {"main": (1, 0), "north": (3, 0)},
            {"main": (0, 0)},  # a stock row, no ledger row: nothing changed
        )
        assert sorted(
            StockMovement.objects.order_by("id")[before:].values_list(
                "kind", "sku", "on_hand_delta", "reference"
            )
        ) == [
            ("adjustment", "A", 2, "erp-sync"),
            ("adjustment", "A", 3, "erp-sync"),
            ("adjustment", "B", 1, "erp-sync"),
        ]
        assert stock_events() == [
            {"sku": "A", "available": 10, "in_stock": True, "in_stock_changed": False},
            {"sku": "B", "available": 4, "in_stock": True, "in_stock_changed": False},
        ]
        assert stored() == replayed()

    @pytest.mark.parametrize("skus", [100, 101])
    def test_a_feed_chunk_is_written_with_its_ledger_whatever_its_size(self, skus):
        """
        Up to 100 stock rows are written with the other writes in one round trip; more (a feed's
        chunk) with an UPDATE bound on the server first. Both write every row and its ledger.
        """
        names = [f"F-{number:03d}" for number in range(skus)]
        for sku in names:
            stock(sku, 1)

        with CaptureQueriesContext(connection) as queries:
            result = api.set_on_hand_many(levels=[(sku, "main", 7) for sku in names], reason="erp-sync")

        assert result == LevelsSet(changed=skus, unchanged=0, rejected={})
        assert {sku: levels(sku) for sku in names} == {sku: {"main": (7, 0)} for sku in names}
        assert len(movements(reference="erp-sync")) == skus
        assert stored() == replayed()
        bound = [query for query in queries if query["sql"].endswith("-- bound on the server")]
        expected = 1 if connection.vendor == "postgresql" and skus > 100 else 0
        assert len(bound) == expected

    def test_receipts_for_increases_with_the_reason_receipt(self):
        stock("A", 5)

        api.set_on_hand_many(levels=[("A", "main", 9)], reason="receipt")
        api.set_on_hand_many(levels=[("A", "main", 4)], reason="receipt")

        assert movements(sku="A", reference="receipt") == [
            ("adjustment", "A", "main", -5, 0, "receipt"),
            ("receipt", "A", "main", 4, 0, "receipt"),
            ("receipt", "A", "main", 5, 0, "receipt"),
        ]

    def test_rejects_rows_by_index_and_applies_the_others(self):
        stock("A", 5)
        stock("R", 5)
        stock("S", 5)
        reserve("checkout-1", R=3, S=3)

        result = api.set_on_hand_many(
            levels=[
                ("A", "main", 6),  # 0: fine
                ("A", "nowhere", 1),  # 1: unknown warehouse
                ("R", "main", 2),  # 2: below the 3 reserved
                ("bad sku!", "main", 1),  # 3: malformed SKU
                ("A", "main", -1),  # 4: not a quantity
                ("A", "main", 7),  # 5: A in main twice
                ("A", "main"),  # 6: not a triple
                ("S", "main", 3),  # 7: fine: exactly what is reserved
            ],
            reason="erp-sync",
        )

        assert (result.changed, result.unchanged) == (2, 0)
        assert sorted(result.rejected) == [1, 2, 3, 4, 5, 6]
        assert "nowhere" in result.rejected[1]
        assert "3 are reserved" in result.rejected[2]
        assert "Not a SKU" in result.rejected[3]
        assert "on_hand" in result.rejected[4]
        assert "more than once" in result.rejected[5]
        assert "sku, warehouse" in result.rejected[6]
        assert levels("A") == {"main": (6, 0)}
        assert levels("R") == {"main": (5, 3)}
        assert levels("S") == {"main": (3, 3)}
        assert not StockLevel.objects.filter(warehouse__code="nowhere").exists()

    def test_expired_reservations_do_not_hold_on_hand_up(self):
        stock("A", 5)
        reserve("checkout-1", A=3)
        expire("checkout-1")

        assert api.set_on_hand_many(levels=[("A", "main", 0)], reason="count").rejected == {}
        assert levels("A") == {"main": (0, 0)}
        assert not Reservation.objects.exists()
        assert stored() == replayed()

    def test_an_empty_reason_is_refused(self):
        with pytest.raises(ValueError, match="reason"):
            api.set_on_hand_many(levels=[("A", "main", 1)], reason="")

    def test_query_count_does_not_grow_with_the_batch(self):
        WarehouseFactory(code="main")

        def queries(count: int, offset: int) -> int:
            batch = [(f"Q-{offset + number}", "main", number + 1) for number in range(count)]
            with CaptureQueriesContext(connection) as captured:
                result = api.set_on_hand_many(levels=batch, reason="erp-sync")
            assert result.changed == count
            return len(captured)

        assert queries(3, 0) == queries(60, 1000)  # SQLite splits larger statements by its parameter limit


class TestReleaseExpired:
    def test_releases_expired_reservations_into_the_ledger(self):
        stock("A", 5)
        stock("B", 5)
        reserve("old-1", A=2)
        reserve("old-2", A=1, B=1)
        reserve("current", B=3)
        expire("old-1")
        expire("old-2")
        events_before = len(stock_events())

        assert api.release_expired() == 2
        assert api.release_expired() == 0

        assert list(Reservation.objects.values_list("reference", flat=True)) == ["current"]
        assert levels("A") == {"main": (5, 0)} and levels("B") == {"main": (5, 3)}
        assert movements(kind="release") == [
            ("release", "A", "main", 0, -2, "old-1"),
            ("release", "A", "main", 0, -1, "old-2"),
            ("release", "B", "main", 0, -1, "old-2"),
        ]
        # Readers discounted the expired stock already; the catalog hears of it now.
        assert stock_events()[events_before:] == [
            {"sku": "A", "available": 5, "in_stock": True, "in_stock_changed": False},
            {"sku": "B", "available": 2, "in_stock": True, "in_stock_changed": False},
        ]

    def test_respects_the_limit(self):
        for index in range(5):
            stock(f"SKU-{index}", 1)
            reserve(f"old-{index}", **{f"SKU-{index}": 1})
        for index in range(5):
            expire(f"old-{index}", seconds_ago=10 - index)

        assert api.release_expired(limit=3) == 3
        assert sorted(Reservation.objects.values_list("reference", flat=True)) == ["old-3", "old-4"]

    def test_the_task_runs_the_clean_up(self):
        from inventory.tasks import release_expired_reservations

        stock("A", 5)
        reserve("old", A=2)
        expire("old")

        assert release_expired_reservations.name == "inventory.release_expired_reservations"
        assert release_expired_reservations() == 1
        assert release_expired_reservations() == 0


class TestLedger:
    def test_the_ledger_replays_to_the_stock_rows(self):
        stock("A", 10, warehouse="near", priority=1)
        stock("A", 4, warehouse="far", priority=2)
        stock("B", 3, warehouse="near", priority=1)
        reserve("c1", A=12, B=1)
        reserve("c2", A=2, B=2)
        api.release(reference="c2")
        reserve("c3", B=2)
        api.commit(reference="c1", order_number="ORD-1")
        reserve("c4", A=1)
        expire("c4")
        reserve("c5", A=1)
        api.adjust_on_hand(sku="A", warehouse="far", delta=3, reason="receipt")
        reserve("c6", A=2)
        expire("c6")
        api.commit(reference="c6", order_number="ORD-2")
        api.return_order(order_number="ORD-1")
        reserve("c7", B=1)
        expire("c7")
        api.release_expired()
        api.set_on_hand(sku="B", warehouse="near", on_hand=2)
        reserve("c3", A=1, B=1)

        assert stored() == {("A", "near"): (10, 1), ("A", "far"): (5, 1), ("B", "near"): (2, 1)}
        assert stored() == replayed()
        held = {}
        for sku, code, quantity in ReservationLine.objects.values_list("sku", "warehouse__code", "quantity"):
            held[(sku, code)] = held.get((sku, code), 0) + quantity
        assert held == {key: reserved for key, (_, reserved) in stored().items() if reserved}


class TestConstraints:
    @pytest.mark.parametrize(
        "change",
        [{"on_hand": -1, "reserved": 0}, {"reserved": -1}, {"on_hand": 2, "reserved": 3}],
        ids=["on_hand<0", "reserved<0", "reserved>on_hand"],
    )
    def test_the_database_refuses_impossible_stock(self, change):
        stock("A", 5)

        with pytest.raises(IntegrityError), transaction.atomic():
            StockLevel.objects.filter(sku="A").update(**change)

        assert levels("A") == {"main": (5, 0)}

    def test_the_database_refuses_an_empty_reservation_line(self):
        stock("A", 5)
        reserve("checkout-1", A=1)

        with pytest.raises(IntegrityError), transaction.atomic():
            ReservationLine.objects.update(quantity=0)


class TestReceiveInitialStock:
    def test_creates_rows_ledger_and_events_for_new_skus_only(self):
        WarehouseFactory(code="main")
        api.set_on_hand(sku="HELD-1", warehouse="main", on_hand=7)
        forget_published()

        created = api.receive_initial_stock(
            warehouse="main", quantities={"NEW-1": 5, "NEW-2": 0, "HELD-1": 99}
        )

        assert created == 2
        availability = api.get_availability(skus=["NEW-1", "NEW-2", "HELD-1"])
        assert [availability[sku].available for sku in ("NEW-1", "NEW-2", "HELD-1")] == [5, 0, 7]
        receipts = StockMovement.objects.filter(kind="receipt", reference="receipt")
        assert sorted(receipts.values_list("sku", "on_hand_delta")) == [("NEW-1", 5)]
        events = {payload["sku"]: payload for payload in published(StockChanged)}
        assert events == {
            "NEW-1": {"sku": "NEW-1", "available": 5, "in_stock": True, "in_stock_changed": True},
            "NEW-2": {"sku": "NEW-2", "available": 0, "in_stock": False, "in_stock_changed": True},
        }
        assert api.receive_initial_stock(warehouse="main", quantities={"NEW-1": 5}) == 0

    def test_refuses_bad_input_and_unknown_warehouses(self):
        WarehouseFactory(code="main")

        with pytest.raises(api.UnknownWarehouse):
            api.receive_initial_stock(warehouse="nowhere", quantities={"A-1": 1})
        for quantities in ({"A-1": -1}, {"A-1": 1.5}, {"not a sku": 1}, {"A-1": True}):
            with pytest.raises(ValueError):
                api.receive_initial_stock(warehouse="main", quantities=quantities)
        assert not StockLevel.objects.exists()

    def test_a_caller_that_sets_the_read_models_itself_may_skip_the_events(self):
        WarehouseFactory(code="main")

        api.receive_initial_stock(warehouse="main", quantities={"QUIET-1": 4}, announce=False)

        assert api.get_availability(skus=["QUIET-1"])["QUIET-1"].available == 4
        assert StockMovement.objects.filter(sku="QUIET-1", kind="receipt").count() == 1
        assert not published(StockChanged)
