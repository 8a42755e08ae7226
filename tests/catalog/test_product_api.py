"""The catalog's HTTP API as the OpenAPI schema describes it: list, filters, search, pagination, detail."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Attribute, Product
from tests.catalog.factories import AttributeFactory, CategoryFactory, sellable_product

PRODUCTS = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


def slugs(response):
    return [item["slug"] for item in response.json()["results"]]


def walk(api_client, url, **params):
    """Follow ``next`` links from ``url``; return every page's slugs in order."""
    pages = []
    response = api_client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        pages.append(slugs(response))
        next_url = response.json()["next"]
        if next_url is None:
            return pages
        response = api_client.get(next_url)


class TestProductList:
    def test_lists_products_with_the_contract_fields(self, api_client):
        shoe = sellable_product(name="Trail Shoe", price=["89.90", "79.50"])

        response = api_client.get(PRODUCTS)

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"results", "next", "previous"}
        assert body["results"] == [
            {
                "slug": shoe.slug,
                "name": "Trail Shoe",
                "category": shoe.category.slug,
                "price_from": {"amount": "79.50", "currency": "EUR"},
                "in_stock": True,
            }
        ]

    def test_products_without_a_price_or_inactive_are_not_listed(self, api_client):
        listed = sellable_product(name="Listed")
        services.product_create(name="Unpriced", slug="unpriced", category=listed.category)
        hidden = sellable_product(name="Hidden")
        services.product_update(product=hidden, is_active=False)

        assert slugs(api_client.get(PRODUCTS)) == [listed.slug]

    def test_category_filter_includes_sub_categories(self, api_client):
        outdoor = CategoryFactory(name="Outdoor", slug="outdoor")
        tents = CategoryFactory(name="Tents", slug="tents", parent=outdoor)
        dome = CategoryFactory(name="Dome tents", slug="dome-tents", parent=tents)
        kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
        in_root = sellable_product(name="Compass", category=outdoor)
        in_child = sellable_product(name="Tunnel Tent", category=tents)
        in_grandchild = sellable_product(name="Dome Tent", category=dome)
        sellable_product(name="Kettle", category=kitchen)

        assert set(slugs(api_client.get(PRODUCTS, {"category": "outdoor"}))) == {
            in_root.slug,
            in_child.slug,
            in_grandchild.slug,
        }
        assert set(slugs(api_client.get(PRODUCTS, {"category": "tents"}))) == {
            in_child.slug,
            in_grandchild.slug,
        }

    def test_price_range_filters_on_the_lowest_price(self, api_client):
        cheap = sellable_product(name="Cheap", price="5.00")
        middle = sellable_product(name="Middle", price=["50.00", "15.00"])
        sellable_product(name="Dear", price="500.00")

        response = api_client.get(PRODUCTS, {"price_min": "5", "price_max": "15.00"})

        assert set(slugs(response)) == {cheap.slug, middle.slug}

    def test_in_stock_filter(self, api_client):
        available = sellable_product(name="Available")
        sold_out = sellable_product(name="Sold out")
        Product.objects.filter(pk=sold_out.pk).update(in_stock=False)  # the read model inventory will feed

        assert slugs(api_client.get(PRODUCTS, {"in_stock": "true"})) == [available.slug]

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("price", ["b", "c", "a"]),
            ("-price", ["a", "c", "b"]),
            ("name", ["a", "b", "c"]),
            ("-created", ["c", "b", "a"]),
        ],
    )
    def test_ordering(self, api_client, ordering, expected):
        sellable_product(name="a", slug="a", price="30.00")
        sellable_product(name="b", slug="b", price="10.00")
        sellable_product(name="c", slug="c", price="20.00")

        assert slugs(api_client.get(PRODUCTS, {"ordering": ordering})) == expected


class TestSearch:
    def test_finds_by_name_sku_and_description(self, api_client):
        tent = sellable_product(name="Alpine Tent", skus=["TENT-ALP-1"], description="Sleeps two.")
        stove = sellable_product(name="Camp Stove", skus=["STV-9"], description="Boils water fast.")
        sellable_product(name="Kettle", skus=["KTL-1"], description="A kitchen classic.")

        assert slugs(api_client.get(PRODUCTS, {"search": "tent"})) == [tent.slug]
        assert slugs(api_client.get(PRODUCTS, {"search": "STV-9"})) == [stove.slug]
        assert slugs(api_client.get(PRODUCTS, {"search": "water"})) == [stove.slug]
        assert slugs(api_client.get(PRODUCTS, {"search": "nothing-like-this"})) == []

    def test_name_match_ranks_above_description_match(self, api_client):
        in_description = sellable_product(name="Sleeping Bag", description="Pairs well with a lantern.")
        in_name = sellable_product(name="Lantern", description="Bright and light.")

        assert slugs(api_client.get(PRODUCTS, {"search": "lantern"})) == [in_name.slug, in_description.slug]

    @pytest.mark.postgres
    def test_postgres_full_text_stems_and_weights_sku_above_description(self, api_client):
        by_sku = sellable_product(name="Gadget", skus=["HIKE-42"], description="Useful.")
        by_description = sellable_product(name="Widget", description="For hike days.")
        runner = sellable_product(name="Running Shoes", description="Light.")

        # English stemming: "run" finds "Running".
        assert slugs(api_client.get(PRODUCTS, {"search": "run"})) == [runner.slug]
        # "hike" is a SKU token (weight B) of one and a description word (weight C) of the other.
        assert slugs(api_client.get(PRODUCTS, {"search": "hike"})) == [by_sku.slug, by_description.slug]

    @pytest.mark.postgres
    def test_postgres_search_vector_follows_writes(self, api_client, django_capture_on_commit_callbacks):
        product = sellable_product(name="Plain Mug")
        assert slugs(api_client.get(PRODUCTS, {"search": "teapot"})) == []

        with django_capture_on_commit_callbacks(execute=True):  # the write commits: lists move on
            services.product_update(product=product, name="Teapot Mug")

        assert slugs(api_client.get(PRODUCTS, {"search": "teapot"})) == [product.slug]

    def test_search_results_paginate_by_relevance(self, api_client):
        for index in range(5):
            sellable_product(name=f"Lamp {index}", slug=f"lamp-{index}")
        for index in range(3):
            sellable_product(name=f"Desk {index}", slug=f"desk-{index}", description="Goes with a lamp.")

        pages = walk(api_client, PRODUCTS, search="lamp", page_size=3)

        flat = [slug for page in pages for slug in page]
        assert len(flat) == 8 and len(set(flat)) == 8
        assert all(slug.startswith("lamp") for slug in flat[:5])


class TestPagination:
    def test_cursor_pages_cover_every_product_once_in_order(self, api_client):
        for index in range(7):
            sellable_product(name=f"Item {index}", slug=f"item-{index}", price=str(10 + index % 3))

        pages = walk(api_client, PRODUCTS, page_size=3, ordering="price")

        assert [len(page) for page in pages] == [3, 3, 1]
        flat = [slug for page in pages for slug in page]
        expected = list(Product.objects.order_by("price_from", "id").values_list("slug", flat=True))
        assert flat == expected

    def test_previous_link_returns_the_previous_page(self, api_client):
        for index in range(5):
            sellable_product(name=f"Item {index}", slug=f"item-{index}")
        first = api_client.get(PRODUCTS, {"page_size": 2})
        assert first.json()["previous"] is None
        second = api_client.get(first.json()["next"])

        back = api_client.get(second.json()["previous"])

        assert slugs(back) == slugs(first)
        assert back.json()["previous"] is None
        assert back.json()["next"] is not None

    def test_page_size_is_clamped_to_100(self, api_client):
        category = CategoryFactory()
        for index in range(101):
            product = services.product_create(name=f"P{index}", slug=f"p-{index}", category=category)
            variant = services.variant_create(product=product, sku=f"P-{index}", name="One size")
            services.price_set(variant=variant, currency="EUR", amount=Decimal("1.00"))

        response = api_client.get(PRODUCTS, {"page_size": 1000})

        assert response.status_code == 200
        assert len(response.json()["results"]) == 100
        assert response.json()["next"] is not None

    def test_list_query_count_does_not_grow_with_page_size(self, api_client):
        category = CategoryFactory(slug="all")
        for index in range(30):
            sellable_product(name=f"Item {index}", slug=f"item-{index}", category=category)
        api_client.get(PRODUCTS, {"category": "all"})  # warms the category tree cache

        counts = []
        for size in (1, 10, 30):
            with CaptureQueriesContext(connection) as queries:
                response = api_client.get(PRODUCTS, {"page_size": size, "category": "all", "search": "item"})
            assert len(response.json()["results"]) == size
            counts.append(len(queries))

        assert counts == [1, 1, 1]

    def test_list_stays_within_its_query_budget(self, api_client, django_assert_max_num_queries):
        for index in range(25):
            sellable_product(name=f"Item {index}", slug=f"item-{index}")

        with django_assert_max_num_queries(1):
            api_client.get(PRODUCTS, {"page_size": 25, "ordering": "-created"})


class TestProductDetail:
    def test_detail_shape_with_typed_attributes(self, api_client):
        product = sellable_product(name="Trail Shoe", price=["89.90", "79.50"], skus=["SHOE-41", "SHOE-42"])
        weight = AttributeFactory(code="weight_g", name="Weight", kind=Attribute.Kind.INTEGER)
        waterproof = AttributeFactory(code="waterproof", name="Waterproof", kind=Attribute.Kind.BOOLEAN)
        colour = AttributeFactory(code="colour", name="Colour", kind=Attribute.Kind.TEXT)
        services.attribute_value_set(product=product, attribute=weight, value=640)
        services.attribute_value_set(product=product, attribute=waterproof, value=True)
        services.attribute_value_set(product=product, attribute=colour, value="Slate")

        response = api_client.get(f"{PRODUCTS}{product.slug}/")

        assert response.status_code == 200
        assert response.json() == {
            "slug": product.slug,
            "name": "Trail Shoe",
            "description": product.description,
            "category": product.category.slug,
            "attributes": {"colour": "Slate", "waterproof": True, "weight_g": 640},
            "variants": [
                {
                    "sku": "SHOE-41",
                    "name": product.variants.get(sku="SHOE-41").name,
                    "price": {"amount": "89.90", "currency": "EUR"},
                    "in_stock": True,
                },
                {
                    "sku": "SHOE-42",
                    "name": product.variants.get(sku="SHOE-42").name,
                    "price": {"amount": "79.50", "currency": "EUR"},
                    "in_stock": True,
                },
            ],
        }

    def test_detail_queries_then_serves_from_cache(self, api_client, django_assert_num_queries):
        product = sellable_product(name="Lamp", price=["10.00", "12.00", "14.00"])

        with django_assert_num_queries(3):
            api_client.get(f"{PRODUCTS}{product.slug}/")
        with django_assert_num_queries(0):
            response = api_client.get(f"{PRODUCTS}{product.slug}/")
        assert response.json()["name"] == "Lamp"

    def test_attribute_value_of_the_wrong_type_is_refused(self):
        product = sellable_product()
        weight = AttributeFactory(kind=Attribute.Kind.INTEGER)

        with pytest.raises(Exception, match="value_integer"):
            services.attribute_value_set(product=product, attribute=weight, value="heavy")


class TestCategories:
    def test_lists_the_tree_with_parent_slugs(self, api_client):
        outdoor = CategoryFactory(name="Outdoor", slug="outdoor")
        CategoryFactory(name="Tents", slug="tents", parent=outdoor)

        response = api_client.get("/api/v1/catalog/categories/")

        assert response.status_code == 200
        assert response.json() == {
            "results": [
                {"slug": "outdoor", "name": "Outdoor", "parent": None},
                {"slug": "tents", "name": "Tents", "parent": "outdoor"},
            ],
            "next": None,
            "previous": None,
        }

    def test_category_pages(self, api_client):
        for index in range(5):
            CategoryFactory(slug=f"c-{index}")

        pages = walk(api_client, "/api/v1/catalog/categories/", page_size=2)

        assert pages == [["c-0", "c-1"], ["c-2", "c-3"], ["c-4"]]

    def test_moving_a_category_moves_its_sub_tree(self, api_client, django_capture_on_commit_callbacks):
        outdoor = CategoryFactory(slug="outdoor")
        garden = CategoryFactory(slug="garden")
        tents = CategoryFactory(slug="tents", parent=outdoor)
        CategoryFactory(slug="dome", parent=tents)
        product = sellable_product(category=tents)

        with django_capture_on_commit_callbacks(execute=True):
            services.category_update(category=tents, parent=garden)

        assert slugs(api_client.get(PRODUCTS, {"category": "garden"})) == [product.slug]
        assert slugs(api_client.get(PRODUCTS, {"category": "outdoor"})) == []
        tree = {
            row["slug"]: row["parent"]
            for row in api_client.get("/api/v1/catalog/categories/").json()["results"]
        }
        assert tree == {"outdoor": None, "garden": None, "tents": "garden", "dome": "tents"}

    def test_a_category_cannot_become_its_own_descendant(self):
        outdoor = CategoryFactory(slug="outdoor")
        tents = CategoryFactory(slug="tents", parent=outdoor)

        with pytest.raises(Exception, match="own ancestor"):
            services.category_update(category=outdoor, parent=tents)
