"""Checkout and orders through HTTP, as the OpenAPI schema describes them."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from checkout import api as checkout_api
from checkout.events import OrderPlaced, OrderStatusChanged
from checkout.models import Checkout
from inventory import api as inventory_api
from tests.checkout.support import (
    ADDRESS,
    cart_with,
    complete,
    money,
    ready_checkout,
    signed_in_client,
    stocked_skus,
)
from tests.events import published
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


class TestCheckout:
    def test_a_guest_goes_from_cart_to_paid_order(self, client):
        sku, other = stocked_skus(5, 3, price="12.50")
        token = cart_with(client, {sku: 2, other: 1})

        created = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")

        assert created.status_code == 201, created.content
        body = created.json()
        assert set(body) >= {
            "id",
            "lines",
            "subtotal",
            "shipping_method",
            "shipping_cost",
            "total",
            "email",
            "shipping_address",
            "expires_at",
        }
        assert body["subtotal"] == money("37.50")
        assert inventory_api.get_availability(skus=[sku])[sku].available == 3

        methods = client.get(f"/api/v1/checkouts/{body['id']}/shipping-methods/").json()
        assert {method["code"] for method in methods} >= {"standard", "express"}

        patched = client.patch(
            f"/api/v1/checkouts/{body['id']}/",
            {"email": "ada@example.com", "shipping_address": ADDRESS, "shipping_method": "standard"},
            format="json",
        )
        assert patched.status_code == 200, patched.content
        assert patched.json()["shipping_cost"] == money("4.90")
        assert patched.json()["total"] == money("42.40")

        response = complete(client, body["id"])

        assert response.status_code == 201, response.content
        order = response.json()
        assert order["status"] == "paid"
        assert order["total"] == money("42.40")
        assert {(line["sku"], line["quantity"]) for line in order["lines"]} == {(sku, 2), (other, 1)}
        assert order["access_token"]
        assert client.get(f"/api/v1/carts/{token}/").json()["lines"] == []
        stock = inventory_api.get_stock(sku=sku)
        assert (stock.on_hand, stock.reserved, stock.available) == (3, 0, 3)
        assert [payload["number"] for payload in published(OrderPlaced)] == [order["number"]]

        anonymous = APIClient()
        assert anonymous.get(f"/api/v1/orders/{order['number']}/").status_code == 404
        assert anonymous.get(f"/api/v1/orders/{order['number']}/", {"token": "wrong"}).status_code == 404
        read = anonymous.get(f"/api/v1/orders/{order['number']}/", {"token": order["access_token"]})
        assert read.status_code == 200
        assert read.json()["number"] == order["number"]
        assert "access_token" not in read.json()

    def test_what_was_added_to_the_cart_during_the_checkout_stays_in_it(self, client):
        """The order is the checkout's snapshot; the cart keeps what came after it."""
        sku, other, later = stocked_skus(5, 5, 5)
        token = cart_with(client, {sku: 2, other: 1})
        checkout_id = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json").json()["id"]
        client.patch(
            f"/api/v1/checkouts/{checkout_id}/",
            {"email": "ada@example.com", "shipping_address": ADDRESS, "shipping_method": "standard"},
            format="json",
        )
        for added in ({"sku": sku, "quantity": 1}, {"sku": later, "quantity": 3}):  # in another tab
            assert client.post(f"/api/v1/carts/{token}/lines/", added, format="json").status_code == 201

        response = complete(client, checkout_id)

        assert response.status_code == 201, response.content
        assert {(line["sku"], line["quantity"]) for line in response.json()["lines"]} == {
            (sku, 2),
            (other, 1),
        }
        cart = client.get(f"/api/v1/carts/{token}/").json()
        assert [(line["sku"], line["quantity"]) for line in cart["lines"]] == [(sku, 1), (later, 3)]

    def test_a_customer_lists_their_orders_newest_first(self):
        client = signed_in_client("grace@example.com")
        sku, other = stocked_skus(5, 5)
        first = complete(client, ready_checkout(client, {sku: 1})["id"], key="a").json()["number"]
        second = complete(client, ready_checkout(client, {other: 1})["id"], key="b").json()["number"]

        response = client.get("/api/v1/orders/")

        assert response.status_code == 200
        assert [order["number"] for order in response.json()["results"]] == [second, first]
        assert APIClient().get("/api/v1/orders/").status_code == 401

    def test_empty_cart_is_400(self, client):
        token = client.post("/api/v1/carts/", {}, format="json").json()["token"]

        response = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")

        assert response.status_code == 400
        assert response.json()["code"] == "empty_cart"

    def test_stock_short_at_checkout_is_409_naming_the_skus(self, client):
        sku, other = stocked_skus(2, 2)
        token = cart_with(client, {sku: 2, other: 2})
        inventory_api.set_on_hand(sku=other, warehouse="MAIN", on_hand=1)

        response = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")

        assert response.status_code == 409
        assert response.json()["code"] == "insufficient_stock"
        assert response.json()["skus"] == [other]
        assert inventory_api.get_availability(skus=[sku])[sku].available == 2  # all or nothing

    def test_completion_needs_email_address_and_method(self, client):
        (sku,) = stocked_skus(3)
        checkout = client.post(
            "/api/v1/checkouts/", {"cart_token": cart_with(client, {sku: 1})}, format="json"
        ).json()

        response = complete(client, checkout["id"])

        assert response.status_code == 400
        assert response.json()["code"] == "checkout_incomplete"
        assert set(response.json()["errors"]) == {"email", "shipping_address", "shipping_method"}

    @pytest.mark.parametrize(
        "body",
        [
            {"shipping_address": {**ADDRESS, "country": "XX"}},
            {"shipping_address": {**ADDRESS, "country": "de"}},
            {"shipping_address": {"name": "Ada"}},
            {"shipping_address": {**ADDRESS, "is_admin": True}},
            {"email": "not-an-email"},
            {"shipping_method": "teleport"},
            {"status": "completed"},
            {"total": {"amount": "0.01", "currency": "EUR"}},
            {"lines": [{"sku": "X", "quantity": 1}]},
        ],
    )
    def test_bad_checkout_updates_are_400_and_change_nothing(self, client, body):
        (sku,) = stocked_skus(3)
        checkout = client.post(
            "/api/v1/checkouts/", {"cart_token": cart_with(client, {sku: 1})}, format="json"
        ).json()

        response = client.patch(f"/api/v1/checkouts/{checkout['id']}/", body, format="json")

        assert response.status_code == 400, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert client.get(f"/api/v1/checkouts/{checkout['id']}/").json() == checkout

    @pytest.mark.parametrize(
        "body", [{}, {"cart_token": "not-a-uuid"}, {"cart_token": None}, {"cart_token": 5}]
    )
    def test_bad_checkout_creation_is_400(self, client, body):
        response = client.post("/api/v1/checkouts/", body, format="json")

        assert response.status_code == 400
        assert response.json()["code"] == "invalid"

    def test_unknown_cart_is_404(self, client):
        response = client.post(
            "/api/v1/checkouts/", {"cart_token": "0b5e8f5e-5d55-4b8a-9b1d-2f1d8f0e9a11"}, format="json"
        )

        assert response.status_code == 404


class TestIdempotency:
    def test_missing_key_is_400(self, client):
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(client, {sku: 1})

        response = complete(client, checkout["id"], key=None)

        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_required"

    def test_same_key_same_body_replays_the_response(self, client):
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(client, {sku: 1})
        first = complete(client, checkout["id"], key="k")

        again = complete(client, checkout["id"], key="k")

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert inventory_api.get_stock(sku=sku).on_hand == 2  # allocated once

    def test_same_key_other_body_is_422(self, client):
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(client, {sku: 1})
        complete(client, checkout["id"], key="k")

        response = complete(client, checkout["id"], key="k", token="tok_decline")

        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"

    def test_declined_then_paid_on_the_same_checkout(self, client):
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(client, {sku: 1})

        declined = complete(client, checkout["id"], key="first", token="tok_decline")
        replayed = complete(client, checkout["id"], key="first", token="tok_decline")
        paid = complete(client, checkout["id"], key="second")

        assert declined.status_code == 402
        assert declined.json()["code"] == "payment_declined"
        assert replayed.status_code == 402 and replayed["Idempotent-Replayed"] == "true"
        assert paid.status_code == 201
        assert paid.json()["status"] == "paid"

    def test_a_payment_timeout_places_no_order_and_may_be_retried(self, client):
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(client, {sku: 1})

        timed_out = complete(client, checkout["id"], key="k", token="tok_timeout")

        assert timed_out.status_code == 503
        assert timed_out.json()["code"] == "payment_timeout"
        assert int(timed_out["Retry-After"]) > 0
        assert not published(OrderPlaced)
        assert inventory_api.get_stock(sku=sku).on_hand == 3
        retried = complete(client, checkout["id"], key="k")
        assert retried.status_code == 201

    def test_a_completed_checkout_cannot_be_completed_again_with_a_new_key(self, client):
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(client, {sku: 1})
        complete(client, checkout["id"], key="a")

        response = complete(client, checkout["id"], key="b")

        assert response.status_code == 409
        assert response.json()["code"] == "checkout_not_open"


class TestReservations:
    def test_an_expired_reservation_whose_stock_is_gone_is_409(self, client, settings):
        (sku,) = stocked_skus(1)
        settings.CHECKOUT_RESERVATION_TTL = 1
        checkout = ready_checkout(client, {sku: 1})
        time.sleep(1.2)
        settings.CHECKOUT_RESERVATION_TTL = 900
        other = APIClient()
        assert (
            other.post(
                "/api/v1/checkouts/", {"cart_token": cart_with(other, {sku: 1})}, format="json"
            ).status_code
            == 201
        )

        response = complete(client, checkout["id"])

        assert response.status_code == 409
        assert response.json()["code"] == "reservation_expired"
        assert response.json()["skus"] == [sku]

    def test_an_expired_reservation_with_stock_still_there_completes(self, client, settings):
        (sku,) = stocked_skus(2)
        settings.CHECKOUT_RESERVATION_TTL = 1
        checkout = ready_checkout(client, {sku: 1})
        time.sleep(1.2)
        settings.CHECKOUT_RESERVATION_TTL = 900

        response = complete(client, checkout["id"])

        assert response.status_code == 201
        assert inventory_api.get_stock(sku=sku).on_hand == 1


class TestOrders:
    def test_cancel_puts_the_stock_back(self, client):
        (sku,) = stocked_skus(3)
        order = complete(client, ready_checkout(client, {sku: 2})["id"]).json()

        response = client.post(f"/api/v1/orders/{order['number']}/cancel/?token={order['access_token']}")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "canceled"
        assert inventory_api.get_stock(sku=sku).on_hand == 3
        assert [payload["status"] for payload in published(OrderStatusChanged)] == ["paid", "canceled"]

    def test_a_handed_over_order_is_not_cancelable(self, client):
        (sku,) = stocked_skus(3)
        order = complete(client, ready_checkout(client, {sku: 1})["id"]).json()
        checkout_api.mark_handed_over(number=order["number"], erp_reference="ERP-1")

        response = client.post(f"/api/v1/orders/{order['number']}/cancel/?token={order['access_token']}")

        assert response.status_code == 409
        assert response.json()["code"] == "not_cancelable"
        assert checkout_api.get_order(number=order["number"]).status == "handed_over"

    def test_illegal_transitions_are_refused(self, client):
        (sku,) = stocked_skus(3)
        order = complete(client, ready_checkout(client, {sku: 1})["id"]).json()
        client.post(f"/api/v1/orders/{order['number']}/cancel/?token={order['access_token']}")

        with pytest.raises(checkout_api.IllegalTransition):
            checkout_api.mark_handed_over(number=order["number"], erp_reference="ERP-1")


class TestAuthorization:
    def test_another_customers_checkout_and_order_are_404(self):
        owner = signed_in_client("owner@example.com")
        intruder = signed_in_client("intruder@example.com")
        (sku,) = stocked_skus(3)
        checkout = ready_checkout(owner, {sku: 1})

        assert intruder.get(f"/api/v1/checkouts/{checkout['id']}/").status_code == 404
        url = f"/api/v1/checkouts/{checkout['id']}/"
        problem = assert_problem(
            intruder.patch(url, {"email": "x@example.com"}, format="json"), 404, "not_found"
        )
        assert problem["detail"] == "No such checkout."
        # Not visible comes before a bad body, as for an unknown checkout.
        assert_problem(intruder.patch(url, {"email": "not an e-mail"}, format="json"), 404, "not_found")
        assert owner.get(url).json()["email"] == checkout["email"]  # unchanged
        assert complete(intruder, checkout["id"]).status_code == 404
        assert APIClient().get(f"/api/v1/checkouts/{checkout['id']}/").status_code == 404

        order = complete(owner, checkout["id"]).json()
        assert intruder.get(f"/api/v1/orders/{order['number']}/").status_code == 404
        assert intruder.post(f"/api/v1/orders/{order['number']}/cancel/").status_code == 404
        assert owner.get(f"/api/v1/orders/{order['number']}/").status_code == 200


class TestQueryBudget:
    def test_completion_runs_at_most_40_queries_whatever_the_number_of_lines(self, client):
        counts = []
        for size in (1, 10):
            skus = stocked_skus(*([5] * size))
            checkout = ready_checkout(APIClient(), dict.fromkeys(skus, 1))
            with CaptureQueriesContext(connection) as queries:
                response = complete(client, checkout["id"], key=f"k{size}")
            assert response.status_code == 201, response.content
            counts.append(len(queries))

        print(f"completion queries for 1 and 10 lines: {counts}")
        assert counts[0] == counts[1]
        assert counts[1] <= 40

    def test_order_list_query_count_does_not_grow_with_orders_or_lines(self):
        client = signed_in_client("many@example.com")
        counts = []
        for round_ in range(2):
            skus = stocked_skus(*([5] * 3))
            for index in range(3):
                checkout = ready_checkout(client, dict.fromkeys(skus, 1))
                assert complete(client, checkout["id"], key=f"k-{round_}-{index}").status_code == 201
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/api/v1/orders/", {"page_size": 50})
            assert len(response.json()["results"]) == 3 * (round_ + 1)
            counts.append(len(queries))

        assert counts[0] == counts[1] <= 3


class TestCrashAfterTheOrder:
    def test_the_answer_is_stored_with_the_order_so_a_retry_after_a_crash_gets_it(self, monkeypatch):
        from checkout.rest_api import views

        (sku,) = stocked_skus(3)
        client = APIClient()
        checkout = ready_checkout(client, {sku: 1})
        real_response = views.Response
        calls = {"n": 0}

        def crash_once(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("the process died after the commit")
            return real_response(*args, **kwargs)

        monkeypatch.setattr(views, "Response", crash_once)
        client.raise_request_exception = False

        crashed = complete(client, checkout["id"], key="k")
        retried = complete(client, checkout["id"], key="k")

        assert crashed.status_code == 500
        assert retried.status_code == 201
        assert retried["Idempotent-Replayed"] == "true"
        order = retried.json()
        assert order["status"] == "paid" and order["access_token"]
        assert (
            APIClient()
            .get(f"/api/v1/orders/{order['number']}/", {"token": order["access_token"]})
            .status_code
            == 200
        )


def test_the_direct_writer_of_an_order_writes_what_its_documented_serializers_write(client):
    from checkout.models import Order
    from checkout.rest_api.serializers import OrderSerializer, PlacedOrderSerializer, order_representation
    from checkout.rest_api.views import order_data, order_fields

    sku, other = stocked_skus(5, 3, price="12.50")
    checkout = ready_checkout(client, {sku: 2, other: 1})
    placed = complete(client, checkout["id"]).json()
    order = Order.objects.get(number=placed["number"])
    shown = order_fields(order)
    assert len(shown["lines"]) == 2 and shown["total"]["amount"] == order.total

    assert order_representation(shown) == OrderSerializer(shown).data == order_data(order)
    with_token = {**shown, "access_token": "t0k3n"}
    assert order_representation(with_token) == PlacedOrderSerializer(with_token).data
    assert placed == {**order_data(order), "access_token": placed["access_token"]}
    without_line2 = {**shown, "shipping_address": {k: v for k, v in ADDRESS.items() if k != "line2"}}
    assert order_representation(without_line2) == OrderSerializer(without_line2).data
    assert order_representation(without_line2)["shipping_address"]["line2"] == ""


def test_the_direct_writer_of_a_checkout_writes_what_its_documented_serializer_writes(client):
    from checkout.models import Checkout
    from checkout.rest_api.serializers import CheckoutSerializer, checkout_representation
    from checkout.rest_api.views import checkout_fields

    sku, other = stocked_skus(5, 3, price="12.50")
    token = cart_with(client, {sku: 2})
    started = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json").json()
    fresh = checkout_fields(Checkout.objects.get(pk=started["id"]))
    assert fresh["shipping_cost"] is None and fresh["email"] is None and fresh["shipping_address"] is None
    assert checkout_representation(fresh) == CheckoutSerializer(fresh).data == started

    ready = ready_checkout(client, {sku: 1, other: 2})
    complete_one = checkout_fields(Checkout.objects.get(pk=ready["id"]))
    assert complete_one["shipping_cost"] is not None
    assert checkout_representation(complete_one) == CheckoutSerializer(complete_one).data == ready


def test_an_order_number_already_taken_is_drawn_again_without_losing_the_order(client, monkeypatch):
    from checkout import services
    from checkout.models import Order

    sku, other = stocked_skus(5, 5)
    first = complete(client, ready_checkout(client, {sku: 1})["id"]).json()["number"]
    drawn = iter([first, first, "261207-FRESH001"])
    monkeypatch.setattr(services, "_new_order_number", lambda: next(drawn))

    placed = complete(client, ready_checkout(client, {other: 2})["id"], key="key-2")

    assert placed.status_code == 201, placed.content
    assert placed.json()["number"] == "261207-FRESH001"
    order = Order.objects.get(number="261207-FRESH001")
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [(other, 2)]
    assert Order.objects.get(number=first).lines.get().sku == sku
    assert inventory_api.get_availability(skus=[other])[other].on_hand == 3


def test_a_second_checkout_of_a_cart_abandons_the_first_and_releases_its_reservation():
    client = APIClient()
    (sku,) = stocked_skus(10)
    token = cart_with(client, {sku: 4})
    first = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")
    assert first.status_code == 201, first.content
    assert inventory_api.get_availability(skus=[sku])[sku].reserved == 4

    second = client.post("/api/v1/checkouts/", {"cart_token": token}, format="json")

    assert second.status_code == 201, second.content
    assert second.json()["id"] != first.json()["id"]
    statuses = dict(Checkout.objects.values_list("id", "status"))
    assert {str(key): value for key, value in statuses.items()} == {
        first.json()["id"]: Checkout.Status.ABANDONED,
        second.json()["id"]: Checkout.Status.OPEN,
    }
    assert inventory_api.get_availability(skus=[sku])[sku].reserved == 4  # the first's 4 released


@pytest.mark.parametrize("lock", [False, True])
def test_the_checkout_read_in_sql_gives_what_the_orm_gives(lock):
    from django.db import transaction

    from checkout import selectors

    client = APIClient()
    (sku,) = stocked_skus(10)
    ready = ready_checkout(client, {sku: 2})

    with transaction.atomic():
        read = selectors.checkout_by_id(ready["id"], lock=lock)
    expected = Checkout.objects.get(pk=ready["id"])

    fields = [field.attname for field in Checkout._meta.concrete_fields]
    assert [getattr(read, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert read.shipping_address["city"] == "Berlin" and read.lines == [{"sku": sku, "quantity": 2}]
    assert str(read.id) == ready["id"]
    assert not read._state.adding  # saved as an instance the ORM loaded is
    assert selectors.checkout_by_id("00000000-0000-0000-0000-000000000000") is None
