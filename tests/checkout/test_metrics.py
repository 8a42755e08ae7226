"""
The checkout funnel in ``/metrics`` (``shop_checkout_funnel_total{step, outcome}``): each step of
a purchase made through the HTTP API counts once, with ``ok`` or why it failed; what a rolled-back
transaction did is not counted; orders count by the campaign of the request that placed them.
Transactional tests: the counts of successes are made on commit, as in production.
"""

import time

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from checkout import services as checkout_services
from checkout.models import Checkout
from inventory.tasks import release_expired_reservations
from tests.checkout.support import ADDRESS, cart_with, complete, ready_checkout, stocked_skus
from tests.integrations.erp_support import create_shipping_methods

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _shipping_methods(transactional_db):
    create_shipping_methods()  # the data migration's rows, gone with each flush


def test_a_purchase_counts_every_step_once_with_ok(scrape):
    (sku,) = stocked_skus(5)
    client = APIClient()
    before = scrape()

    token = client.post("/api/v1/carts/", {}, format="json").json()["token"]
    assert (
        client.post(f"/api/v1/carts/{token}/lines/", {"sku": sku, "quantity": 2}, format="json").status_code
        == 201
    )
    checkout_id = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json").json()["id"]
    assert (
        client.patch(
            f"/api/v1/checkouts/{checkout_id}/", {"shipping_address": ADDRESS}, format="json"
        ).status_code
        == 200
    )
    patched = client.patch(
        f"/api/v1/checkouts/{checkout_id}/",
        {"email": "ada@example.com", "shipping_method": "standard"},
        format="json",
    )
    assert patched.status_code == 200
    assert complete(client, checkout_id).status_code == 201

    after = scrape()
    assert after.funnel(before) == {
        ("cart_created", "ok"): 1,
        ("line_added", "ok"): 1,
        ("checkout_started", "ok"): 1,
        ("address_set", "ok"): 1,
        ("shipping_set", "ok"): 1,
        ("payment", "ok"): 1,
        ("order_placed", "ok"): 1,
    }
    assert after.delta(before, "shop_orders_placed_by_campaign_total", campaign="none") == 1
    # The replay of the completion (same Idempotency-Key) places nothing and counts nothing.
    assert complete(client, checkout_id).status_code == 201
    assert scrape().funnel(after) == {}


def test_a_declined_payment_counts_at_the_payment_step_only(scrape):
    (sku,) = stocked_skus(5)
    client = APIClient()
    checkout = ready_checkout(client, {sku: 1})
    before = scrape()

    declined = complete(client, checkout["id"], key="declined", token="tok_decline")
    timed_out = complete(client, checkout["id"], key="timeout", token="tok_timeout")

    assert (declined.status_code, timed_out.status_code) == (402, 503)
    assert scrape().funnel(before) == {("payment", "declined"): 1, ("payment", "timeout"): 1}
    # The checkout stays usable: a good payment then places the order.
    assert complete(client, checkout["id"], key="paid").status_code == 201
    assert scrape().funnel(before)[("order_placed", "ok")] == 1


def test_refusals_count_with_their_problem_code(scrape):
    (sku,) = stocked_skus(1)
    client = APIClient()
    token = cart_with(client, {})
    before = scrape()

    short = client.post(f"/api/v1/carts/{token}/lines/", {"sku": sku, "quantity": 2}, format="json")
    unknown = client.post(
        f"/api/v1/carts/{token}/lines/", {"sku": "NO-SUCH-SKU", "quantity": 1}, format="json"
    )
    empty = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")

    assert [short.status_code, unknown.status_code, empty.status_code] == [409, 400, 400]
    assert scrape().funnel(before) == {
        ("line_added", "insufficient_stock"): 1,
        ("line_added", "unknown_sku"): 1,
        ("checkout_started", "empty_cart"): 1,
    }


def test_an_expired_reservation_counts_at_completion_and_when_its_stock_is_taken_back(scrape, settings):
    (sku,) = stocked_skus(1)
    client = APIClient()
    settings.CHECKOUT_RESERVATION_TTL = 1
    checkout = ready_checkout(client, {sku: 1})
    time.sleep(1.2)
    settings.CHECKOUT_RESERVATION_TTL = 900
    before = scrape()
    other = APIClient()  # takes the stock the expired reservation no longer holds
    other_cart = cart_with(other, {sku: 1})
    assert other.post("/api/v1/checkouts/", {"cart_token": other_cart}, format="json").status_code == 201
    taken_back = scrape().funnel(before)

    response = complete(client, checkout["id"])

    assert response.status_code == 409 and response.json()["code"] == "reservation_expired"
    assert taken_back == {
        ("cart_created", "ok"): 1,
        ("line_added", "ok"): 1,
        ("checkout_started", "ok"): 1,
        ("reservation", "expired"): 1,  # the first checkout's, deleted as its stock went to the other
    }
    assert scrape().funnel(before) == {**taken_back, ("order_placed", "reservation_expired"): 1}


def test_the_sweep_counts_the_reservations_of_abandoned_checkouts(scrape, settings):
    skus = stocked_skus(3, 3)
    settings.CHECKOUT_RESERVATION_TTL = 1
    for sku in skus:
        ready_checkout(APIClient(), {sku: 1})
    time.sleep(1.2)
    before = scrape()

    assert release_expired_reservations() == 2  # beat's sweep

    assert scrape().funnel(before) == {("reservation", "expired"): 2}


def test_an_order_whose_transaction_rolls_back_is_not_counted(scrape):
    (sku,) = stocked_skus(5)
    client = APIClient()
    checkout = ready_checkout(client, {sku: 1})
    before = scrape()

    with pytest.raises(RuntimeError), transaction.atomic():
        checkout_services.checkout_complete(
            checkout_id=checkout["id"], payment_token="tok_success", idempotency_key="k"
        )
        raise RuntimeError("the caller's transaction fails after the order was placed")

    assert Checkout.objects.get(pk=checkout["id"]).order_number == ""
    counted = scrape().funnel(before)
    assert counted == {("payment", "ok"): 1}  # the charge happened (and is the gateway's fact); no order
    assert scrape().delta(before, "shop_orders_placed_by_campaign_total", campaign="none") == 0


def test_orders_and_requests_count_by_allow_listed_campaign(scrape, settings):
    settings.METRICS_CAMPAIGNS = ["spring-sale"]
    (sku,) = stocked_skus(5)
    client = APIClient()
    checkout = ready_checkout(client, {sku: 1})
    before = scrape()

    listed = client.get("/api/v1/catalog/products/?utm_campaign=Spring-Sale")
    unknown = client.get("/api/v1/catalog/products/", HTTP_X_CAMPAIGN="summer-leak-1234")
    placed = client.post(
        f"/api/v1/checkouts/{checkout['id']}/complete/",
        {"payment_token": "tok_success"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="campaign",
        HTTP_X_CAMPAIGN="spring-sale",
    )

    assert (listed.status_code, unknown.status_code, placed.status_code) == (200, 200, 201)
    after = scrape()
    requests = "shop_http_requests_by_campaign_total"
    assert after.delta(before, requests, campaign="spring-sale", context="catalog") == 1
    assert after.delta(before, requests, campaign="other", context="catalog") == 1
    assert after.delta(before, requests, campaign="spring-sale", context="checkout") == 1
    assert after.delta(before, "shop_orders_placed_by_campaign_total", campaign="spring-sale") == 1
    assert after.delta(before, "shop_orders_placed_by_campaign_total", campaign="none") == 0
    # Only allow-listed names and the two catch-alls ever become label values.
    assert {labels["campaign"] for labels in after.series(requests)} <= {"spring-sale", "other", "none"}
