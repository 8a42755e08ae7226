"""
Catalog responses cached rendered, with HTTP validators: a product page and a product list carry
an ETag and Cache-Control, answer If-None-Match with 304, and a write that commits changes what the
next reader gets (the page by key, every list by a new generation).
"""

import pytest

from catalog import api, cache, services
from tests.catalog.factories import sellable_product, take_off_sale

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/catalog/products/"
LIST_URL = f"http://testserver{PRODUCTS}"


def page(product) -> str:
    return f"{PRODUCTS}{product.slug}/"


@pytest.mark.parametrize("kind", ["detail", "list", "search"])
def test_a_catalog_response_has_an_etag_and_answers_if_none_match_with_304(api_client, settings, kind):
    settings.CATALOG_HTTP_MAX_AGE = 30
    product = sellable_product(name="Teapot", skus=["POT-1"])
    url = {"detail": page(product), "list": PRODUCTS, "search": f"{PRODUCTS}?search=teapot"}[kind]

    first = api_client.get(url)
    again = api_client.get(url)  # from the cache: the same bytes, the same validator
    not_modified = api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    other = api_client.get(url, HTTP_IF_NONE_MATCH='"something-else"')

    assert first.status_code == again.status_code == other.status_code == 200
    assert first["ETag"].startswith('"') and first["ETag"] == again["ETag"] == other["ETag"]
    assert first.content == again.content == other.content
    assert first["Content-Type"] == "application/json"
    assert "public" in first["Cache-Control"] and "max-age=30" in first["Cache-Control"]
    assert "Accept" in first["Vary"]
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == first["ETag"]


def test_the_etag_changes_with_the_content(api_client, django_capture_on_commit_callbacks):
    product = sellable_product(price="10.00", skus=["POT-1"])
    before = api_client.get(page(product))

    with django_capture_on_commit_callbacks(execute=True):
        api.set_price(sku="POT-1", amount="12.00", currency="EUR")

    after = api_client.get(page(product))
    assert after["ETag"] != before["ETag"]
    assert api_client.get(page(product), HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_a_product_page_is_served_from_the_cache_without_the_database(api_client, django_assert_num_queries):
    product = sellable_product(skus=["POT-1"])
    api_client.get(page(product))
    assert cache.get_product(product.slug) is not None

    with django_assert_num_queries(0):
        assert api_client.get(page(product)).status_code == 200


def test_a_list_is_served_from_the_cache_until_a_write_commits(
    api_client, django_capture_on_commit_callbacks
):
    mug = sellable_product(name="Mug", price="10.00", skus=["MUG-1"])
    listed = api_client.get(PRODUCTS).json()["results"]
    assert [(item["slug"], item["price_from"]["amount"]) for item in listed] == [(mug.slug, "10.00")]

    # Written without its commit: the cached list is what a reader sees until the commit.
    services.price_set(variant=mug.variants.get(), currency="EUR", amount="8.00")
    assert api_client.get(PRODUCTS).json()["results"][0]["price_from"]["amount"] == "10.00"

    with django_capture_on_commit_callbacks(execute=True):
        api.set_price(sku="MUG-1", amount="9.00", currency="EUR")
    assert api_client.get(PRODUCTS).json()["results"][0]["price_from"]["amount"] == "9.00"

    with django_capture_on_commit_callbacks(execute=True):
        tray = sellable_product(name="Tray", skus=["TRAY-1"])
    assert [item["slug"] for item in api_client.get(PRODUCTS).json()["results"]] == [mug.slug, tray.slug]

    with django_capture_on_commit_callbacks(execute=True):
        take_off_sale(product=tray)
    assert [item["slug"] for item in api_client.get(PRODUCTS).json()["results"]] == [mug.slug]


def test_an_entry_of_an_older_generation_is_never_served(api_client):
    sellable_product(name="Mug")
    body = api_client.get(PRODUCTS).content
    rendered, generation = cache.get_list(LIST_URL)
    assert rendered is not None and rendered.body == body

    cache.set_list(LIST_URL, rendered.__class__(body=b'{"stale": true}', etag='"x"'), generation - 1)

    assert cache.get_list(LIST_URL) == (None, generation)
    assert api_client.get(PRODUCTS).content == body  # read again from the database


def test_a_list_without_a_generation_starts_one_that_matches_no_stored_entry(api_client):
    from django.core.cache import cache as default_cache

    sellable_product(name="Mug")
    api_client.get(PRODUCTS)
    default_cache.delete("catalog:generation:v1")  # evicted

    rendered, generation = cache.get_list(LIST_URL)

    assert rendered is None
    assert cache.get_list(LIST_URL)[1] == generation


def test_a_bad_query_is_a_400_and_is_not_cached(api_client):
    sellable_product(name="Mug")

    assert api_client.get(PRODUCTS, {"page_size": "x"}).status_code == 400
    assert cache.get_list(f"{LIST_URL}?page_size=x")[0] is None
    assert api_client.get(PRODUCTS, {"page_size": "x"}).status_code == 400


def test_a_list_is_cached_per_host_as_its_links_name_the_host(api_client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "shop.example"]
    for index in range(3):
        sellable_product(name=f"Mug {index}")

    one = api_client.get(PRODUCTS, {"page_size": 1}, HTTP_HOST="shop.example").json()
    other = api_client.get(PRODUCTS, {"page_size": 1}, HTTP_HOST="testserver").json()

    assert one["next"].startswith("http://shop.example/")
    assert other["next"].startswith("http://testserver/")


def test_a_list_url_with_a_parameter_of_its_own_making_is_answered_but_not_cached(api_client):
    sellable_product(name="Mug")

    response = api_client.get(PRODUCTS, {"junk": "1"})

    assert response.status_code == 200
    assert cache.get_list(f"{LIST_URL}?junk=1")[0] is None


def test_an_unknown_product_is_a_404_and_is_not_cached(api_client):
    assert api_client.get(f"{PRODUCTS}nope/").status_code == 404
    assert cache.get_product("nope") is None
