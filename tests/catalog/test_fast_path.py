"""
The catalog's fast path (catalog/rest_api/fast_path.py): an anonymous GET of a cached product page
or list is answered before the session, CSRF and DRF machinery, with the same status, bytes and
headers as the full stack, counted once by the same throttle; everything else goes on to the view.
"""

import pytest
from django.test import Client

from catalog.rest_api import views
from shop.kernel.http.throttling import AnonRateThrottle
from tests.catalog.factories import sellable_product

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/catalog/products/"


@pytest.fixture
def views_called(monkeypatch):
    """The names of the catalog views that DRF dispatched to (the fast path dispatches none)."""
    called = []
    for view in (views.ProductDetailView, views.ProductListView):
        original = view.dispatch

        def dispatch(self, request, *args, _original=original, **kwargs):
            called.append(type(self).__name__)
            return _original(self, request, *args, **kwargs)

        monkeypatch.setattr(view, "dispatch", dispatch)
    return called


def headers(response) -> dict:
    return {name: value for name, value in response.headers.items() if name not in ("Date", "X-Request-ID")}


@pytest.mark.parametrize("kind", ["detail", "list", "search"])
def test_a_cached_read_is_answered_before_the_view_as_the_view_answers_it(views_called, kind):
    product = sellable_product(name="Teapot", skus=["POT-1"])
    url = {"detail": f"{PRODUCTS}{product.slug}/", "list": PRODUCTS, "search": f"{PRODUCTS}?search=teapot"}[
        kind
    ]
    client = Client()
    first = client.get(url)  # a miss: the view reads the database and caches the page
    assert views_called == [first.wsgi_request.resolver_match.func.view_class.__name__]

    fast = client.get(url)
    fast_304 = client.get(url, HTTP_IF_NONE_MATCH=fast["ETag"])
    assert len(views_called) == 1  # both answered by the fast path

    # The full stack's answers to the same reads: a session cookie (unknown, so still anonymous)
    # makes the fast path pass the request on.
    client.cookies["sessionid"] = "not-a-session"
    full = client.get(url)
    full_304 = client.get(url, HTTP_IF_NONE_MATCH=fast["ETag"])
    assert len(views_called) == 3

    assert (fast.status_code, fast.content) == (full.status_code, full.content) == (200, first.content)
    assert headers(fast) == headers(full) == headers(first)
    assert (fast_304.status_code, fast_304.content) == (full_304.status_code, full_304.content) == (304, b"")
    assert headers(fast_304) == headers(full_304)


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"HTTP_AUTHORIZATION": "Bearer not-a-token"},  # the view answers 401
        {"HTTP_ACCEPT": "application/problem+json"},
        {"HTTP_ACCEPT": "text/csv"},  # 406
    ],
    ids=["credentials", "another-renderer", "not-acceptable"],
)
def test_what_the_fast_path_cannot_answer_the_same_way_goes_on_to_the_view(views_called, request_kwargs):
    product = sellable_product(skus=["POT-1"])
    client = Client()
    client.get(f"{PRODUCTS}{product.slug}/")
    client.get(PRODUCTS)
    views_called.clear()

    client.get(f"{PRODUCTS}{product.slug}/", **request_kwargs)
    client.get(PRODUCTS, **request_kwargs)
    assert views_called == ["ProductDetailView", "ProductListView"]


def test_a_list_with_a_parameter_of_its_own_is_not_cached_and_goes_on_to_the_view(views_called):
    sellable_product(skus=["POT-1"])
    client = Client()
    client.get(PRODUCTS, {"made_up": "1"})
    client.get(PRODUCTS, {"made_up": "1"})
    assert views_called == ["ProductListView", "ProductListView"]


def test_a_host_that_is_not_allowed_is_refused_as_everywhere(views_called):
    product = sellable_product(skus=["POT-1"])
    client = Client()
    client.get(f"{PRODUCTS}{product.slug}/")
    response = client.get(f"{PRODUCTS}{product.slug}/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert views_called == ["ProductDetailView"]


def test_each_read_is_counted_once_and_a_refusal_is_the_views_429(monkeypatch, views_called):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/min", raising=False)
    product = sellable_product(skus=["POT-1"])
    client = Client()

    answers = [client.get(f"{PRODUCTS}{product.slug}/") for _ in range(4)]

    # The miss (counted by the fast path, not again by the view) and two hits are admitted.
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert views_called == ["ProductDetailView", "ProductDetailView"]  # the miss, then the refusal


def test_a_write_on_commit_is_seen_by_the_next_fast_read(django_capture_on_commit_callbacks):
    from catalog import api

    product = sellable_product(price="10.00", skus=["POT-1"])
    client = Client()
    client.get(f"{PRODUCTS}{product.slug}/")
    client.get(PRODUCTS)
    with django_capture_on_commit_callbacks(execute=True):
        api.set_price(sku="POT-1", amount="12.00", currency="EUR")

    assert client.get(f"{PRODUCTS}{product.slug}/").json()["variants"][0]["price"]["amount"] == "12.00"
    assert client.get(PRODUCTS).json()["results"][0]["price_from"]["amount"] == "12.00"


def test_its_answers_count_by_campaign_under_the_catalog_and_by_view(scrape, settings):
    settings.METRICS_CAMPAIGNS = ["spring-sale"]
    product = sellable_product(skus=["POT-1"])
    client = Client()
    client.get(f"{PRODUCTS}{product.slug}/")  # the miss: cached by the view
    before = scrape()

    assert client.get(f"{PRODUCTS}{product.slug}/", HTTP_X_CAMPAIGN="spring-sale").status_code == 200

    after = scrape()
    requests = "shop_http_requests_by_campaign_total"
    assert after.delta(before, requests, campaign="spring-sale", context="catalog") == 1
    responses = "django_http_responses_total_by_status_view_method_total"
    assert after.delta(before, responses, status="200", view="catalog:product-detail", method="GET") == 1
