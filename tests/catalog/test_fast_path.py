"""
The catalog's fast path (catalog/rest_api/fast_path.py): an anonymous GET of a cached product page
or list is answered before the session, CSRF and DRF machinery, with the same status, bytes and
headers as the full stack, counted once by the same throttle; everything else goes on to the view.

Each test runs twice: through Django's test client, where ``CachedReadsMiddleware`` answers, and
through ``shop.wsgi.application`` (what gunicorn serves), where ``CachedReadsApp`` answers in
front of Django's handler.
"""

import pytest
from django.core.signals import request_started
from django.test import Client

from catalog.rest_api import views
from shop.kernel import tracing
from shop.kernel.http.throttling import AnonRateThrottle
from shop.kernel.logcontext import REQUEST_ID
from tests.catalog.factories import sellable_product
from tests.wsgi_client import WsgiClient

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/catalog/products/"


@pytest.fixture(params=[Client, WsgiClient], ids=["middleware", "wsgi-front"])
def client_class(request):
    return request.param


@pytest.fixture
def handler_environs():
    """The environs of the requests that reached Django's handler (its ``request_started`` signal)."""
    environs = []

    def started(sender, environ=None, **kwargs):
        environs.append(environ or {})

    request_started.connect(started, dispatch_uid="tests.fast_path.handler_environs")
    yield environs
    request_started.disconnect(dispatch_uid="tests.fast_path.handler_environs")


@pytest.fixture
def handler_calls():
    """The paths of the requests that reached Django's handler."""
    paths = []

    def started(sender, environ=None, **kwargs):
        paths.append((environ or {}).get("PATH_INFO"))

    request_started.connect(started, dispatch_uid="tests.fast_path.handler_calls")
    yield paths
    request_started.disconnect(dispatch_uid="tests.fast_path.handler_calls")


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
    # Set-Cookie: the full stack's answer to the made-up session cookie below deletes it (the test
    # client keeps cookies apart from the headers; the WSGI client does not).
    skipped = ("Date", "X-Request-ID", "Set-Cookie")
    return {name: value for name, value in response.headers.items() if name not in skipped}


@pytest.mark.parametrize("kind", ["detail", "list", "search"])
def test_a_cached_read_is_answered_before_the_view_as_the_view_answers_it(views_called, kind, client_class):
    product = sellable_product(name="Teapot", skus=["POT-1"])
    url = {"detail": f"{PRODUCTS}{product.slug}/", "list": PRODUCTS, "search": f"{PRODUCTS}?search=teapot"}[
        kind
    ]
    client = client_class()
    first = client.get(url)  # a miss: the view reads the database and caches the page
    assert views_called == ["ProductDetailView" if kind == "detail" else "ProductListView"]

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
def test_what_the_fast_path_cannot_answer_the_same_way_goes_on_to_the_view(
    views_called, request_kwargs, client_class
):
    product = sellable_product(skus=["POT-1"])
    client = client_class()
    client.get(f"{PRODUCTS}{product.slug}/")
    client.get(PRODUCTS)
    views_called.clear()

    client.get(f"{PRODUCTS}{product.slug}/", **request_kwargs)
    client.get(PRODUCTS, **request_kwargs)
    assert views_called == ["ProductDetailView", "ProductListView"]


def test_a_list_with_a_parameter_of_its_own_is_not_cached_and_goes_on_to_the_view(views_called, client_class):
    sellable_product(skus=["POT-1"])
    client = client_class()
    client.get(PRODUCTS, {"made_up": "1"})
    client.get(PRODUCTS, {"made_up": "1"})
    assert views_called == ["ProductListView", "ProductListView"]


def test_a_host_that_is_not_allowed_is_refused_as_everywhere(views_called, client_class):
    product = sellable_product(skus=["POT-1"])
    client = client_class()
    client.get(f"{PRODUCTS}{product.slug}/")
    response = client.get(f"{PRODUCTS}{product.slug}/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert views_called == ["ProductDetailView"]


def test_each_read_is_counted_once_and_a_refusal_is_the_views_429(monkeypatch, views_called, client_class):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/min", raising=False)
    product = sellable_product(skus=["POT-1"])
    client = client_class()

    answers = [client.get(f"{PRODUCTS}{product.slug}/") for _ in range(4)]

    # The miss (counted by the fast path, not again by the view) and two hits are admitted.
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert views_called == ["ProductDetailView", "ProductDetailView"]  # the miss, then the refusal


def test_a_write_on_commit_is_seen_by_the_next_fast_read(django_capture_on_commit_callbacks, client_class):
    from catalog import api

    product = sellable_product(price="10.00", skus=["POT-1"])
    client = client_class()
    client.get(f"{PRODUCTS}{product.slug}/")
    client.get(PRODUCTS)
    with django_capture_on_commit_callbacks(execute=True):
        api.set_price(sku="POT-1", amount="12.00", currency="EUR")

    assert client.get(f"{PRODUCTS}{product.slug}/").json()["variants"][0]["price"]["amount"] == "12.00"
    assert client.get(PRODUCTS).json()["results"][0]["price_from"]["amount"] == "12.00"


def test_its_answers_count_by_campaign_under_the_catalog_and_by_view(scrape, settings, client_class):
    settings.METRICS_CAMPAIGNS = ["spring-sale"]
    product = sellable_product(skus=["POT-1"])
    client = client_class()
    client.get(f"{PRODUCTS}{product.slug}/")  # the miss: cached by the view
    before = scrape()

    assert client.get(f"{PRODUCTS}{product.slug}/", HTTP_X_CAMPAIGN="spring-sale").status_code == 200

    after = scrape()
    requests = "shop_http_requests_by_campaign_total"
    assert after.delta(before, requests, campaign="spring-sale", context="catalog") == 1
    responses = "django_http_responses_total_by_status_view_method_total"
    assert after.delta(before, responses, status="200", view="catalog:product-detail", method="GET") == 1
    # django-prometheus's first middleware's counts, whichever answered: the read and the first scrape's
    # own request to /metrics
    assert after.delta(before, "django_http_requests_before_middlewares_total") == 2
    assert after.delta(before, "django_http_responses_before_middlewares_total") == 2


def test_the_wsgi_front_answers_a_cached_read_without_djangos_handler(handler_calls):
    product = sellable_product(skus=["POT-1"])
    url = f"{PRODUCTS}{product.slug}/"
    client = WsgiClient()
    client.get(url)  # the miss goes through the handler
    assert handler_calls == [url]

    answer = client.get(url, HTTP_X_REQUEST_ID="read-42")

    assert answer.status_code == 200
    assert handler_calls == [url]  # not again
    assert answer["X-Request-ID"] == "read-42"
    assert REQUEST_ID.get() is None  # unbound once the server closed the response


def test_the_wsgi_front_passes_on_what_it_cannot_answer_the_same_way(handler_calls):
    product = sellable_product(skus=["POT-1"])
    url = f"{PRODUCTS}{product.slug}/"
    client = WsgiClient()
    client.get(url)

    nul = client.get(url, HTTP_X_NOTE="a\x00b")
    problem_json = client.get(url, HTTP_ACCEPT="application/problem+json")

    assert nul.status_code == 400  # RejectNulMiddleware's answer
    assert nul["Content-Type"] == "application/problem+json"
    assert problem_json.status_code == 200  # DRF negotiates it
    assert handler_calls == [url, url, url]


def test_the_wsgi_front_leaves_other_reads_to_django_untouched(handler_environs):
    response = WsgiClient().get("/api/v1/catalog/categories/")

    assert response.status_code == 200
    assert [environ["PATH_INFO"] for environ in handler_environs] == ["/api/v1/catalog/categories/"]
    # nothing asked (no request id bound, no throttle counted), nothing passed on
    assert not any(key.startswith("shop.") for key in handler_environs[0])


def test_the_wsgi_front_steps_aside_with_tracing_on(handler_calls, monkeypatch):
    product = sellable_product(skus=["POT-1"])
    url = f"{PRODUCTS}{product.slug}/"
    client = WsgiClient()
    client.get(url)
    monkeypatch.setattr(tracing, "current_traceparent", lambda: "")  # what shop.telemetry sets

    assert client.get(url).status_code == 200
    assert handler_calls == [url, url]  # the middleware path answered, inside the instrumentation
