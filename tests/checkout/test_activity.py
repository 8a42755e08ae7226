"""
``checkout.api.activity_since``: the last hour's orders and checkouts as the operations page shows
them, from the database (SQLite and PostgreSQL): placed, by status now; started, by outcome.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from checkout import api
from checkout.models import Checkout, Order
from tests.checkout.support import cart_with, checkout_of, complete, ready_checkout, stocked_skus

pytestmark = pytest.mark.django_db

NO_ORDERS = dict.fromkeys(Order.Status.values, 0)


def test_nothing_yet_is_every_status_and_outcome_at_zero():
    since = timezone.now() - timedelta(hours=1)

    activity = api.activity_since(since=since)

    assert activity.since == since
    assert (activity.orders_placed, activity.orders_by_status) == (0, NO_ORDERS)
    assert activity.checkouts_started == 0
    assert activity.checkouts_by_outcome == dict.fromkeys(api.CHECKOUT_OUTCOMES, 0)


def test_the_last_hour_s_orders_and_checkouts_by_where_they_are_now():
    client = APIClient()
    paid, canceled, old, expired, replaced = stocked_skus(5, 5, 5, 5, 5)
    complete(client, ready_checkout(client, {paid: 1})["id"], key="a")
    order = complete(client, ready_checkout(client, {canceled: 1})["id"], key="b").json()
    assert (
        client.post(f"/api/v1/orders/{order['number']}/cancel/?token={order['access_token']}").status_code
        == 200
    )
    before = complete(client, ready_checkout(client, {old: 1})["id"], key="c").json()
    Order.objects.filter(number=before["number"]).update(created_at=timezone.now() - timedelta(hours=2))
    Checkout.objects.filter(order_number=before["number"]).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    gone = ready_checkout(client, {expired: 1})["id"]
    Checkout.objects.filter(pk=gone).update(expires_at=timezone.now() - timedelta(seconds=1))
    cart = cart_with(client, {replaced: 1})
    checkout_of(client, cart)  # abandoned by the next one of the same cart
    checkout_of(client, cart)  # open, its stock reserved

    activity = api.activity_since(since=timezone.now() - timedelta(hours=1))

    assert activity.orders_placed == 2
    assert activity.orders_by_status == NO_ORDERS | {"paid": 1, "canceled": 1}
    assert activity.checkouts_by_outcome == {
        "completed": 2,
        "completing": 0,
        "open": 1,
        "expired": 1,
        "abandoned": 1,
    }
    assert activity.checkouts_started == 5
