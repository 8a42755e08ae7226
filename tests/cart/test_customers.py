"""A customer's cart: one per customer, invisible to everyone else, and merging on sign-in."""

import pytest

from cart.models import Cart
from tests.cart.conftest import CARTS, add, cart_url, lines_of, new_cart, product
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


class TestCustomerCart:
    def test_a_customer_has_one_cart_created_once(self, customer):
        ada = customer()

        first = ada.post(CARTS, {}, format="json")
        second = ada.post(CARTS, {}, format="json")

        assert first.status_code == 201
        assert second.status_code == 200
        assert first.json()["token"] == second.json()["token"]
        assert Cart.objects.get().customer_id == ada.customer_id

    def test_a_customer_uses_their_cart_like_an_anonymous_one(self, customer):
        product("MUG-1")
        ada = customer()
        token = new_cart(ada)

        assert add(ada, token, "MUG-1", 2).status_code == 201
        line_id = ada.get(cart_url(token)).json()["lines"][0]["id"]
        assert ada.patch(cart_url(token, "lines", line_id), {"quantity": 3}, format="json").status_code == 200
        assert lines_of(token) == [("MUG-1", 3)]
        assert ada.delete(cart_url(token, "lines", line_id)).status_code == 200
        assert lines_of(token) == []

    def test_a_customers_cart_is_404_for_everyone_else(self, customer, api_client):
        product("MUG-1")
        ada, bob = customer(), customer()
        token = new_cart(ada)
        line_id = add(ada, token, "MUG-1", 2).json()["lines"][0]["id"]

        for other in (bob, api_client):
            assert_problem(other.get(cart_url(token)), 404, "not_found")
            assert_problem(add(other, token, "MUG-1", 1), 404, "not_found")
            patch = other.patch(cart_url(token, "lines", line_id), {"quantity": 5}, format="json")
            assert_problem(patch, 404, "not_found")
            assert_problem(other.delete(cart_url(token, "lines", line_id)), 404, "not_found")
            merge = other.post(cart_url(token, "merge"))
            if other is api_client:
                assert_problem(merge, 401, "not_authenticated")
            else:
                assert_problem(merge, 404, "not_found")

        assert lines_of(token) == [("MUG-1", 2)]
        assert ada.get(cart_url(token)).status_code == 200

    def test_an_anonymous_cart_is_open_to_whoever_holds_its_token(self, customer, api_client):
        product("MUG-1")
        token = new_cart(api_client)

        assert add(customer(), token, "MUG-1", 1).status_code == 201
        assert api_client.get(cart_url(token)).json()["item_count"] == 1

    def test_invalid_credentials_are_401_not_an_anonymous_request(self, api_client):
        token = new_cart(api_client)
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

        assert_problem(api_client.get(cart_url(token)), 401, "not_authenticated")


class TestMerge:
    def test_merging_sums_quantities_caps_them_and_deletes_the_anonymous_cart(self, customer, api_client):
        for sku in ("A-1", "B-1", "C-1", "D-1"):
            product(sku, on_hand=1000)
        anonymous = new_cart(api_client)
        add(api_client, anonymous, "A-1", 2)
        add(api_client, anonymous, "B-1", 60)
        add(api_client, anonymous, "D-1", 4)
        ada = customer()
        own = new_cart(ada)
        add(ada, own, "B-1", 50)
        add(ada, own, "C-1", 1)
        add(ada, own, "D-1", 1)

        response = ada.post(cart_url(anonymous, "merge"))

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["token"] == own
        assert {x["sku"]: x["quantity"] for x in body["lines"]} == {"A-1": 2, "B-1": 100, "C-1": 1, "D-1": 5}
        assert body["item_count"] == 108
        assert not Cart.objects.filter(token=anonymous).exists()
        assert_problem(api_client.get(cart_url(anonymous)), 404, "not_found")
        assert_problem(ada.get(cart_url(anonymous)), 404, "not_found")
        assert_problem(ada.post(cart_url(anonymous, "merge")), 404, "not_found")

    def test_merging_without_a_cart_of_ones_own_creates_it(self, customer, api_client):
        product("A-1")
        anonymous = new_cart(api_client)
        add(api_client, anonymous, "A-1", 3)
        ada = customer()

        response = ada.post(cart_url(anonymous, "merge"))

        assert response.status_code == 200
        token = response.json()["token"]
        assert token != anonymous
        assert Cart.objects.get(token=token).customer_id == ada.customer_id
        assert lines_of(token) == [("A-1", 3)]
        assert Cart.objects.count() == 1
        assert ada.post(CARTS, {}, format="json").json()["token"] == token

    def test_merging_keeps_the_line_cap(self, customer, api_client, settings):
        settings.CART_MAX_LINES = 3
        for sku in ("A-1", "B-1", "C-1", "D-1"):
            product(sku)
        anonymous = new_cart(api_client)
        for sku in ("B-1", "C-1", "D-1"):
            add(api_client, anonymous, sku, 1)
        ada = customer()
        own = new_cart(ada)
        add(ada, own, "A-1", 1)
        add(ada, own, "B-1", 1)

        body = ada.post(cart_url(anonymous, "merge")).json()

        # The customer's two lines, then the anonymous cart's new SKUs in order until the cap.
        assert {x["sku"]: x["quantity"] for x in body["lines"]} == {"A-1": 1, "B-1": 2, "C-1": 1}

    def test_merging_needs_a_signed_in_customer(self, api_client):
        token = new_cart(api_client)

        response = api_client.post(cart_url(token, "merge"))

        assert_problem(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Bearer"
        assert Cart.objects.filter(token=token).exists()

    def test_merging_ones_own_cart_changes_nothing(self, customer):
        product("A-1")
        ada = customer()
        own = new_cart(ada)
        add(ada, own, "A-1", 2)

        response = ada.post(cart_url(own, "merge"))

        assert response.status_code == 200
        assert response.json()["token"] == own
        assert lines_of(own) == [("A-1", 2)]

    def test_merging_another_customers_cart_is_404(self, customer):
        product("A-1")
        ada, bob = customer(), customer()
        theirs = new_cart(bob)
        add(bob, theirs, "A-1", 2)

        assert_problem(ada.post(cart_url(theirs, "merge")), 404, "not_found")
        assert lines_of(theirs) == [("A-1", 2)]
        assert Cart.objects.filter(customer_id=ada.customer_id).count() == 0

    @pytest.mark.parametrize("path", ["not-a-token", "00000000-0000-4000-8000-000000000000"])
    def test_merging_an_unknown_cart_is_404(self, customer, path):
        assert_problem(customer().post(f"{CARTS}{path}/merge/"), 404, "not_found")

    @pytest.mark.parametrize("field", ["customer_id", "into", "token"])
    def test_merging_with_a_field_is_400_and_changes_nothing(self, customer, api_client, field):
        product("A-1")
        token = new_cart(api_client)
        add(api_client, token, "A-1", 1)
        ada = customer()

        response = ada.post(cart_url(token, "merge"), {field: 1}, format="json")

        assert field in assert_problem(response, 400, "invalid")["errors"]
        assert lines_of(token) == [("A-1", 1)]
        assert not Cart.objects.filter(customer_id=ada.customer_id).exists()

    def test_merging_accepts_an_empty_object_or_no_body(self, customer, api_client):
        ada = customer()
        assert ada.post(cart_url(new_cart(api_client), "merge"), {}, format="json").status_code == 200
        assert ada.post(cart_url(new_cart(api_client), "merge")).status_code == 200
        assert Cart.objects.count() == 1
