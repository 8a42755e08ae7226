"""Catalog read caching: entries are dropped on commit of every write that changes them."""

from decimal import Decimal

import pytest

from catalog import api, cache, services
from catalog.events import PriceChanged, ProductChanged
from tests.catalog.factories import CategoryFactory, sellable_product
from tests.events import forget_published, published

pytestmark = pytest.mark.django_db


def detail(api_client, product):
    return api_client.get(f"/api/v1/catalog/products/{product.slug}/").json()


def test_price_change_through_the_service_is_visible_at_once(api_client, django_capture_on_commit_callbacks):
    product = sellable_product(price="10.00")
    variant = product.variants.get()
    assert detail(api_client, product)["variants"][0]["price"]["amount"] == "10.00"
    assert cache.get_product(product.slug) is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.price_set(variant=variant, currency="EUR", amount=Decimal("12.50"))

    assert cache.get_product(product.slug) is None
    assert detail(api_client, product)["variants"][0]["price"]["amount"] == "12.50"


def test_price_change_through_the_api_is_visible_at_once(api_client, django_capture_on_commit_callbacks):
    product = sellable_product(price="10.00", skus=["MUG-1"])
    detail(api_client, product)

    with django_capture_on_commit_callbacks(execute=True):
        api.set_price(sku="MUG-1", amount="11.00", currency="EUR")

    assert detail(api_client, product)["variants"][0]["price"]["amount"] == "11.00"


def test_price_change_through_the_admin_is_visible_at_once(
    api_client, admin_client, django_capture_on_commit_callbacks
):
    product = sellable_product(price="10.00", skus=["LAMP-1"])
    variant = product.variants.get()
    price = variant.prices.get()
    detail(api_client, product)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/catalog/variant/{variant.pk}/change/",
            {
                "product": product.pk,
                "sku": "LAMP-1",
                "name": variant.name,
                "position": 0,
                "is_active": "on",
                "prices-TOTAL_FORMS": 2,
                "prices-INITIAL_FORMS": 1,
                "prices-MIN_NUM_FORMS": 0,
                "prices-MAX_NUM_FORMS": 1000,
                "prices-0-id": price.pk,
                "prices-0-variant": variant.pk,
                "prices-0-currency": "EUR",
                "prices-0-amount": "14.99",
                "prices-1-variant": variant.pk,
                "prices-1-currency": "",
                "prices-1-amount": "",
            },
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert detail(api_client, product)["variants"][0]["price"]["amount"] == "14.99"
    product.refresh_from_db()
    assert product.price_from == Decimal("14.99")


def test_product_rename_through_the_admin_publishes_and_invalidates(
    api_client, admin_client, django_capture_on_commit_callbacks
):
    product = sellable_product(name="Old name")
    detail(api_client, product)
    before = len(published(ProductChanged))
    management = {
        f"{prefix}-{name}": value
        for prefix in ("variants", "attribute_values")
        for name, value in (
            ("TOTAL_FORMS", 0),
            ("INITIAL_FORMS", 0),
            ("MIN_NUM_FORMS", 0),
            ("MAX_NUM_FORMS", 1000),
        )
    }
    variant = product.variants.get()
    management.update(
        {
            "variants-TOTAL_FORMS": 1,
            "variants-INITIAL_FORMS": 1,
            "variants-0-id": variant.pk,
            "variants-0-product": product.pk,
            "variants-0-sku": variant.sku,
            "variants-0-name": variant.name,
            "variants-0-position": 0,
            "variants-0-is_active": "on",
        }
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/catalog/product/{product.pk}/change/",
            {
                "name": "New name",
                "slug": product.slug,
                "description": "",
                "category": product.category.pk,
                "is_active": "on",
                **management,
            },
        )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert detail(api_client, product)["name"] == "New name"
    assert len(published(ProductChanged)) > before


def test_category_tree_cache_is_dropped_when_a_category_is_added(
    api_client, django_capture_on_commit_callbacks
):
    CategoryFactory(slug="outdoor")
    assert len(api_client.get("/api/v1/catalog/categories/").json()["results"]) == 1

    with django_capture_on_commit_callbacks(execute=True):
        CategoryFactory(slug="garden")

    assert len(api_client.get("/api/v1/catalog/categories/").json()["results"]) == 2


def test_a_rolled_back_write_leaves_the_cache_alone(api_client):
    from django.db import transaction

    product = sellable_product(price="10.00")
    detail(api_client, product)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.price_set(variant=product.variants.get(), currency="EUR", amount=Decimal("99.00"))
        raise RuntimeError("abort")

    assert cache.get_product(product.slug) is not None
    assert detail(api_client, product)["variants"][0]["price"]["amount"] == "10.00"


@pytest.mark.redis
def test_reads_fail_open_when_redis_is_down(api_client, settings):
    product = sellable_product(name="Sturdy Mug")
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    response = api_client.get(f"/api/v1/catalog/products/{product.slug}/")

    assert response.status_code == 200
    assert response.json()["name"] == "Sturdy Mug"
    assert api_client.get("/api/v1/catalog/products/").status_code == 200


def test_deleting_a_product_announces_its_removed_prices(django_capture_on_commit_callbacks):
    product = sellable_product(price=["10.00", "12.00"], skus=["A-1", "A-2"])
    forget_published()

    services.product_delete(product=product)

    prices = {payload["sku"]: payload for payload in published(PriceChanged)}
    assert prices["A-1"]["amount"] is None
    assert prices["A-1"]["previous_amount"] == "10.00"
    assert prices["A-2"]["previous_amount"] == "12.00"
    deleted = published(ProductChanged)[-1]
    assert deleted["change"] == "deleted"
    assert sorted(deleted["skus"]) == ["A-1", "A-2"]
