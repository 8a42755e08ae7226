"""The staff endpoint ``/api/v1/inventory/stock/{sku}/`` as the OpenAPI schema describes it."""

import pytest
from django.contrib.auth import get_user_model

from inventory.models import StockMovement
from tests.inventory.factories import WarehouseFactory, levels, lines, stock
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/inventory/stock/{sku}/"


@pytest.fixture
def customer_client(api_client):
    customer = get_user_model().objects.create_user("customer", "customer@example.com", "pw")
    api_client.force_authenticate(customer)
    return api_client


class TestGet:
    def test_shape(self, staff_client):
        from inventory import api

        stock("A-1", 5, warehouse="second", priority=2)
        stock("A-1", 3, warehouse="first", priority=1)
        api.reserve(reference="checkout-1", lines=lines(**{"A-1": 4}), ttl_seconds=60)

        response = staff_client.get(URL.format(sku="A-1"))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "sku": "A-1",
            "on_hand": 8,
            "reserved": 4,
            "available": 4,
            "warehouses": [
                {"code": "first", "on_hand": 3, "reserved": 3},
                {"code": "second", "on_hand": 5, "reserved": 1},
            ],
        }

    def test_a_sku_the_shop_knows_without_stock_has_zeros(self, staff_client):
        from inventory import api

        api.register_skus(skus=["NOT-HELD-YET"])  # what the catalog does for a new variant

        response = staff_client.get(URL.format(sku="NOT-HELD-YET"))

        assert response.status_code == 200
        assert response.json() == {
            "sku": "NOT-HELD-YET",
            "on_hand": 0,
            "reserved": 0,
            "available": 0,
            "warehouses": [],
        }

    def test_a_sku_held_at_zero_has_zeros(self, staff_client):
        stock("SOLD-OUT", 0)

        response = staff_client.get(URL.format(sku="SOLD-OUT"))

        assert response.status_code == 200
        assert response.json()["warehouses"] == [{"code": "main", "on_hand": 0, "reserved": 0}]

    def test_an_unknown_sku_is_a_404(self, staff_client):
        stock("A-1", 5)

        body = assert_problem(staff_client.get(URL.format(sku="NEVER-HEARD-OF")), 404, "not_found")
        assert "NEVER-HEARD-OF" in body["detail"]

    def test_a_malformed_sku_is_a_400(self, staff_client):
        body = assert_problem(staff_client.get(URL.format(sku="x" * 65)), 400, "invalid")
        assert "sku" in body["errors"]

    def test_a_customer_is_forbidden(self, customer_client):
        assert_problem(customer_client.get(URL.format(sku="A-1")), 403, "permission_denied")
        assert_problem(
            customer_client.put(URL.format(sku="A-1"), {}, format="json"), 403, "permission_denied"
        )

    def test_without_credentials_401(self, api_client):
        response = api_client.get(URL.format(sku="A-1"))

        # 401 needs an authentication class with a challenge first in REST_FRAMEWORK (the Bearer
        # token class); with SessionAuthentication alone DRF would answer 403.
        assert_problem(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Bearer"
        assert_problem(api_client.put(URL.format(sku="A-1"), {}, format="json"), 401, "not_authenticated")


class TestPut:
    def test_sets_on_hand_and_returns_the_stock(self, staff_client, staff_user):
        from inventory import api

        WarehouseFactory(code="main")
        api.register_skus(skus=["A-1"])  # a new catalog SKU: its first stock

        response = staff_client.put(URL.format(sku="A-1"), {"warehouse": "main", "on_hand": 7}, format="json")

        assert response.status_code == 200, response.content
        assert response.json() == {
            "sku": "A-1",
            "on_hand": 7,
            "reserved": 0,
            "available": 7,
            "warehouses": [{"code": "main", "on_hand": 7, "reserved": 0}],
        }
        assert list(StockMovement.objects.values_list("kind", "on_hand_delta", "reference")) == [
            ("adjustment", 7, f"staff:{staff_user.username}")
        ]

    def test_an_unknown_sku_is_a_404_and_writes_nothing(self, staff_client):
        WarehouseFactory(code="main")

        response = staff_client.put(
            URL.format(sku="NEVER-HEARD-OF"), {"warehouse": "main", "on_hand": 7}, format="json"
        )

        assert_problem(response, 404, "not_found")
        assert levels("NEVER-HEARD-OF") == {}
        assert not StockMovement.objects.exists()

    def test_a_sku_held_elsewhere_can_be_set_in_another_warehouse(self, staff_client):
        stock("A-1", 5, warehouse="first")
        WarehouseFactory(code="second")

        response = staff_client.put(
            URL.format(sku="A-1"), {"warehouse": "second", "on_hand": 2}, format="json"
        )

        assert response.status_code == 200, response.content
        assert levels("A-1") == {"first": (5, 0), "second": (2, 0)}

    def test_accepts_the_largest_quantity(self, staff_client):
        stock("A-1", 0)

        response = staff_client.put(
            URL.format(sku="A-1"), {"warehouse": "main", "on_hand": 2**63 - 1}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["on_hand"] == 2**63 - 1

    @pytest.mark.parametrize(
        "on_hand",
        [1.5, 1.0, "1e2", "5", -1, None, True, False, 2**63, [], {}],
        ids=["1.5", "1.0", "'1e2'", "'5'", "-1", "null", "true", "false", "2**63", "list", "object"],
    )
    def test_on_hand_must_be_a_non_negative_integer(self, staff_client, on_hand):
        WarehouseFactory(code="main")

        response = staff_client.put(
            URL.format(sku="A-1"), {"warehouse": "main", "on_hand": on_hand}, format="json"
        )

        body = assert_problem(response, 400, "invalid")
        assert list(body["errors"]) == ["on_hand"]
        assert not StockMovement.objects.exists()

    def test_a_json_number_written_with_an_exponent_is_refused(self, staff_client):
        WarehouseFactory(code="main")

        response = staff_client.generic(
            "PUT", URL.format(sku="A-1"), '{"warehouse": "main", "on_hand": 1e2}', "application/json"
        )

        assert list(assert_problem(response, 400, "invalid")["errors"]) == ["on_hand"]

    @pytest.mark.parametrize(
        "body",
        [{}, {"on_hand": 1}, {"warehouse": "", "on_hand": 1}, {"warehouse": None, "on_hand": 1}, [1, 2]],
        ids=["empty", "no-warehouse", "blank-warehouse", "null-warehouse", "a-list"],
    )
    def test_a_body_without_a_warehouse_is_refused(self, staff_client, body):
        assert_problem(staff_client.put(URL.format(sku="A-1"), body, format="json"), 400, "invalid")

    def test_malformed_json_is_refused(self, staff_client):
        response = staff_client.generic("PUT", URL.format(sku="A-1"), "{not json", "application/json")

        assert_problem(response, 400, "invalid")

    def test_an_unknown_warehouse_is_a_400(self, staff_client):
        stock("A-1", 1)

        response = staff_client.put(
            URL.format(sku="A-1"), {"warehouse": "nowhere", "on_hand": 1}, format="json"
        )

        body = assert_problem(response, 400, "unknown_warehouse")
        assert body["errors"] == {"warehouse": ["Unknown warehouse."]}

    def test_below_reserved_is_a_409(self, staff_client):
        from inventory import api

        stock("A-1", 5)
        api.reserve(reference="checkout-1", lines=lines(**{"A-1": 3}), ttl_seconds=60)

        response = staff_client.put(URL.format(sku="A-1"), {"warehouse": "main", "on_hand": 2}, format="json")

        body = assert_problem(response, 409, "reserved_stock")
        assert body["reserved"] == 3
        assert levels("A-1") == {"main": (5, 3)}

    def test_a_malformed_sku_is_a_400(self, staff_client):
        WarehouseFactory(code="main")

        response = staff_client.put(
            URL.format(sku="-leading-dash"), {"warehouse": "main", "on_hand": 1}, format="json"
        )

        assert "sku" in assert_problem(response, 400, "invalid")["errors"]


def test_the_schema_describes_the_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operations = schema["paths"]["/api/v1/inventory/stock/{sku}/"]
    assert set(operations) >= {"get", "put"}
    assert {"400", "401", "403", "404"} <= set(operations["get"]["responses"])
    assert {"400", "403", "404", "409"} <= set(operations["put"]["responses"])
    assert "application/problem+json" in operations["put"]["responses"]["409"]["content"]
