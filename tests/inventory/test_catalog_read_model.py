"""
``StockChanged`` feeds the catalog's ``in_stock`` flags: the event goes through the outbox and is
handed to the catalog's subscriber (its Celery task, run in-process) as the relay would.
"""

import pytest

from catalog.handlers import on_stock_changed
from catalog.models import Product, Variant
from inventory import api
from shop.kernel.models import OutboxMessage
from shop.kernel.subscriptions import subscribers
from tests.catalog.factories import sellable_product
from tests.inventory.factories import expire, lines, stock

pytestmark = pytest.mark.django_db


class Outbox:
    """The ``StockChanged`` envelopes published since the last ``take()``."""

    def __init__(self):
        self.seen = 0

    def take(self) -> list[dict]:
        rows = list(
            OutboxMessage.objects.filter(event_type="inventory.StockChanged", id__gt=self.seen).order_by("id")
        )
        if rows:
            self.seen = rows[-1].id
        return [row.envelope() for row in rows]


def deliver(envelopes) -> list[bool]:
    """Run the catalog's subscriber task for each envelope; True where the handler ran."""
    return [on_stock_changed(envelope) for envelope in envelopes]


def flags(product):
    product.refresh_from_db()
    variants = dict(Variant.objects.filter(product=product).values_list("sku", "in_stock"))
    return product.in_stock, variants


def test_the_catalog_subscribes_to_stock_changes():
    assert "catalog.on_stock_changed" in subscribers("inventory.StockChanged")


def test_stock_changes_flip_the_variant_and_product_flags(api_client, django_capture_on_commit_callbacks):
    product = sellable_product(skus=["SHOE-41", "SHOE-42"], price=["10.00", "10.00"])
    outbox = Outbox()
    stock("SHOE-41", 1)
    stock("SHOE-42", 1)
    assert deliver(outbox.take()) == [True, True]
    assert flags(product) == (True, {"SHOE-41": True, "SHOE-42": True})
    api_client.get(f"/api/v1/catalog/products/{product.slug}/")  # cached now

    api.reserve(reference="checkout-1", lines=lines(**{"SHOE-41": 1}), ttl_seconds=60)
    deliver(outbox.take())
    assert flags(product) == (True, {"SHOE-41": False, "SHOE-42": True})

    with django_capture_on_commit_callbacks(execute=True):
        api.reserve(reference="checkout-2", lines=lines(**{"SHOE-42": 1}), ttl_seconds=60)
        deliver(outbox.take())
    assert flags(product) == (False, {"SHOE-41": False, "SHOE-42": False})
    detail = api_client.get(f"/api/v1/catalog/products/{product.slug}/").json()
    assert [variant["in_stock"] for variant in detail["variants"]] == [False, False]
    assert api_client.get("/api/v1/catalog/products/", {"in_stock": "true"}).json()["results"] == []

    # An expired reservation: the clean-up tells the catalog that the stock is back.
    expire("checkout-2")
    api.release_expired()
    deliver(outbox.take())
    assert flags(product) == (True, {"SHOE-41": False, "SHOE-42": True})


def test_redelivery_and_late_events_leave_the_right_flag():
    product = sellable_product(skus=["LAMP-1"])
    outbox = Outbox()
    stock("LAMP-1", 1)
    late = outbox.take()  # "available 1, in stock": delivered only after the next one

    api.reserve(reference="checkout-1", lines=lines(**{"LAMP-1": 1}), ttl_seconds=60)
    newer = outbox.take()
    assert deliver(newer) == [True]
    assert deliver(newer) == [False]  # the inbox: handled once
    assert deliver(late) == [True]

    # The handler asks the inventory for the current availability, so the late event does no harm.
    assert flags(product) == (False, {"LAMP-1": False})


def test_an_inactive_variant_does_not_keep_its_product_in_stock():
    product = sellable_product(skus=["A-1", "A-2"], price=["1.00", "2.00"])
    Variant.objects.filter(sku="A-2").update(is_active=False)
    outbox = Outbox()
    stock("A-1", 0)
    stock("A-2", 5)
    api.adjust_on_hand(sku="A-1", warehouse="main", delta=1)
    api.adjust_on_hand(sku="A-1", warehouse="main", delta=-1)

    deliver(outbox.take())

    assert flags(product) == (False, {"A-1": False, "A-2": True})


def test_a_sku_the_catalog_does_not_know_is_ignored():
    outbox = Outbox()
    stock("ONLY-IN-THE-WAREHOUSE", 3)

    assert deliver(outbox.take()) == [True]
    assert not Product.objects.exists()


def test_only_changes_that_may_flip_the_flag_go_to_the_catalog():
    """
    ``in_stock_changed``: the catalog subscribes to the changes that cross zero as readers saw the
    stock or as the counters said, and the relay sends it nothing for the others.
    """
    sellable_product(skus=["MUG-1"])
    outbox = Outbox()
    stock("MUG-1", 5)
    api.reserve(reference="checkout-1", lines=lines(**{"MUG-1": 3}), ttl_seconds=60)  # 5 -> 2
    api.reserve(reference="checkout-2", lines=lines(**{"MUG-1": 2}), ttl_seconds=60)  # 2 -> 0
    expire("checkout-2")  # readers see 2 again; the counters still say 0
    api.release_expired()  # the clean-up: 0 -> 2 by the counters

    changes = [
        (envelope["payload"]["available"], envelope["payload"]["in_stock_changed"])
        for envelope in outbox.take()
    ]
    assert changes == [(5, True), (2, False), (0, True), (2, True)]
    wanted = [subscribers("inventory.StockChanged", envelope["payload"]) for envelope in outbox_rows()]
    assert wanted == [
        ["catalog.on_stock_changed"],
        [],
        ["catalog.on_stock_changed"],
        ["catalog.on_stock_changed"],
    ]


def outbox_rows():
    rows = OutboxMessage.objects.filter(event_type="inventory.StockChanged").order_by("id")
    return [row.envelope() for row in rows]
