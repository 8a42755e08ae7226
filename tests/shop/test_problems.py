"""Every error is RFC 9457 problem+json with a stable code; bad input is never a 500."""

import pytest
from django.urls import path
from rest_framework.views import APIView

from tests.catalog.factories import sellable_product
from tests.problems import assert_problem

PRODUCTS = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "abc"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"price_min": "abc"}, "price_min"),
        ({"price_max": "1e400"}, "price_max"),
        ({"price_min": "-1"}, "price_min"),
        ({"price_min": "10", "price_max": "5"}, "price_max"),
        ({"ordering": "bogus"}, "ordering"),
        ({"category": "no-such-category"}, "category"),
        ({"in_stock": "perhaps"}, "in_stock"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJkIjoibiIsImsiOlsiYWJjIiwxXX0", "ordering": "price"}, "cursor"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_unreadable_query_parameters_are_400_invalid(api_client, params, field):
    sellable_product()

    body = assert_problem(api_client.get(PRODUCTS, params), 400, "invalid")

    assert field in body["errors"]
    assert all(isinstance(message, str) for message in body["errors"][field])


def test_unknown_product_slug_is_404(api_client):
    assert_problem(api_client.get(f"{PRODUCTS}no-such-product/"), 404, "not_found")


def test_unknown_url_is_404_problem(api_client):
    assert_problem(api_client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_wrong_method_is_405(api_client):
    assert_problem(api_client.post(PRODUCTS, {}, format="json"), 405, "method_not_allowed")


def test_a_client_asking_for_problem_json_gets_it(api_client):
    response = api_client.get(f"{PRODUCTS}nope/", HTTP_ACCEPT="application/problem+json")

    assert_problem(response, 404, "not_found")


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("secret internals")


urlpatterns = [path("boom/", Boom.as_view())]
handler500 = "shop.kernel.http.problems.server_error_view"


@pytest.mark.urls("tests.shop.test_problems")
def test_unhandled_error_is_500_problem_without_traceback(client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    body = assert_problem(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"]


def test_throttled_requests_get_429_with_retry_after(api_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    api_client.get(PRODUCTS)
    api_client.get(PRODUCTS)

    response = api_client.get(PRODUCTS)

    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", PRODUCTS), ("post", "/api/v1/carts/"), ("get", "/api/v1/orders/ABC/?token=x")],
)
def test_a_stopped_database_is_503_with_retry_after(api_client, database_down, settings, method, path):
    settings.RETRY_AFTER_SECONDS = 7
    api_client.raise_request_exception = False

    response = getattr(api_client, method)(
        path, **({"data": {}, "format": "json"} if method == "post" else {})
    )

    body = assert_problem(response, 503, "service_unavailable")
    assert "database" in body["detail"]
    assert response["Retry-After"] == "7"


def test_every_503_of_the_problem_handler_carries_retry_after(settings):
    from shop.kernel.http.problems import Problem, ServiceUnavailable, problem_exception_handler

    settings.RETRY_AFTER_SECONDS = 3
    for exc in [ServiceUnavailable(), Problem(503, "payment_timeout", "No answer.")]:
        assert problem_exception_handler(exc, {})["Retry-After"] == "3"
    assert not problem_exception_handler(Problem(409, "conflict", "No."), {}).has_header("Retry-After")


def test_permission_denied_and_not_authenticated_codes(api_client):
    from rest_framework import exceptions

    from shop.kernel.http.problems import problem_exception_handler

    for exc, status, code in [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.AuthenticationFailed(), 401, "not_authenticated"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
    ]:
        response = problem_exception_handler(exc, {})
        assert response.status_code == status
        assert response.data["code"] == code
        assert response.content_type == "application/problem+json"
