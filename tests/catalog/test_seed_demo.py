"""``manage.py seed_demo``: a deterministic demo catalog whose read models match the services'."""

from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from catalog import bulk, demo, services
from catalog.models import Attribute, AttributeValue, Category, Price, Product, Variant

PRODUCTS = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def snapshot() -> list[tuple]:
    """Everything a seed decides, without database ids and timestamps."""
    return list(
        Price.objects.order_by(
            "variant__product__slug", "variant__position", "variant__sku", "currency"
        ).values_list(
            "variant__product__slug",
            "variant__product__name",
            "variant__product__description",
            "variant__product__category__slug",
            "variant__sku",
            "variant__is_active",
            "currency",
            "amount",
        )
    )


def attribute_snapshot() -> list[tuple]:
    return list(
        AttributeValue.objects.order_by("product__slug", "attribute__code").values_list(
            "product__slug",
            "attribute__code",
            "value_text",
            "value_integer",
            "value_decimal",
            "value_boolean",
        )
    )


class TestDeterminism:
    def test_the_same_seed_gives_the_same_catalog(self):
        seed(products=80, seed=7)
        first, first_values = snapshot(), attribute_snapshot()
        Product.objects.all().delete()

        seed(products=80, seed=7)

        assert snapshot() == first
        assert attribute_snapshot() == first_values
        assert len({row[0] for row in first}) == 80

    def test_another_seed_gives_another_catalog(self):
        seed(products=30, seed=1)
        first = snapshot()
        Product.objects.all().delete()

        seed(products=30, seed=2)

        assert snapshot() != first

    def test_a_product_depends_only_on_the_seed_and_its_number(self):
        small = [demo.product(3, number, currency="EUR") for number in range(1, 11)]
        large = list(demo.products(3, range(1, 101), currency="EUR"))

        assert large[:10] == small


class TestCatalogShape:
    @pytest.fixture
    def seeded(self):
        seed(products=300, seed=11, batch_size=120)

    def test_every_product_has_one_to_five_variants_with_unique_skus(self, seeded):
        counts = Counter(Variant.objects.values_list("product_id", flat=True))

        assert Product.objects.count() == 300
        assert set(counts) == set(Product.objects.values_list("pk", flat=True))
        assert all(1 <= count <= 5 for count in counts.values())
        assert set(counts.values()) > {1, 5}
        skus = list(Variant.objects.values_list("sku", flat=True))
        assert len(skus) == len(set(skus))
        for variant in Variant.objects.all()[:50]:
            variant.full_clean()

    def test_price_from_is_the_lowest_active_price_in_the_shop_currency(self, seeded):
        lowest: dict[int, Decimal] = {}
        for product_id, amount in Price.objects.filter(
            currency=settings.SHOP_CURRENCY, variant__is_active=True
        ).values_list("variant__product_id", "amount"):
            lowest[product_id] = min(amount, lowest.get(product_id, amount))

        for product in Product.objects.all():
            assert product.price_from == lowest.get(product.pk), product.slug

    def test_prices_are_shop_prices_and_some_have_a_second_currency(self, seeded):
        currencies = Counter(Price.objects.values_list("currency", flat=True))

        assert currencies[settings.SHOP_CURRENCY] == Variant.objects.count()
        assert set(currencies) == {settings.SHOP_CURRENCY, demo.second_currency(settings.SHOP_CURRENCY)}
        for amount in Price.objects.values_list("amount", flat=True):
            assert amount > 0
            assert amount == amount.quantize(Decimal("0.01"))

    def test_sku_text_is_the_skus_in_variant_order(self, seeded):
        skus = defaultdict(list)
        for product_id, sku in Variant.objects.order_by("position", "id").values_list("product_id", "sku"):
            skus[product_id].append(sku)

        for product in Product.objects.all():
            assert product.sku_text == " ".join(skus[product.pk])

    def test_the_read_models_agree_with_the_services(self, seeded):
        before = dict(Product.objects.values_list("pk", "price_from"))
        before_skus = dict(Product.objects.values_list("pk", "sku_text"))

        bulk.refresh_read_models(before)

        assert dict(Product.objects.values_list("pk", "price_from")) == before
        assert dict(Product.objects.values_list("pk", "sku_text")) == before_skus

    def test_the_category_tree_has_consistent_paths(self, seeded):
        categories = list(Category.objects.select_related("parent"))
        roots = [category for category in categories if category.parent is None]

        assert len(roots) == 8
        for category in categories:
            assert category.path == category.build_path()
        for root in roots:
            assert 3 <= root.children.count() <= 6
        assert any(category.parent and category.parent.parent for category in categories)
        tents = Category.objects.get(slug="tents")
        assert tents.path == "/outdoor/camping/tents/"
        assert not Product.objects.filter(category__children__isnull=False).exists()

    def test_products_have_two_to_four_typed_attribute_values(self, seeded):
        counts = Counter(AttributeValue.objects.values_list("product_id", flat=True))

        assert all(2 <= counts[pk] <= 4 for pk in Product.objects.values_list("pk", flat=True))
        kinds = set(Attribute.objects.values_list("kind", flat=True))
        assert kinds == {choice for choice, _ in Attribute.Kind.choices}
        for value in AttributeValue.objects.select_related("attribute")[:200]:
            value.clean()
            assert value.value not in (None, "")

    def test_names_slugs_and_descriptions_read_like_a_shop(self, seeded):
        product = Product.objects.order_by("pk").first()
        slugs = list(Product.objects.values_list("slug", flat=True))

        assert len(slugs) == len(set(slugs))
        assert product.slug.endswith(f"-{product.sku_text.split('-')[1].lstrip('0')}")
        assert product.description.startswith(f"The {product.name} is ")
        assert product.description.endswith(".")
        product.full_clean()


class TestExistingCatalog:
    def test_if_empty_leaves_an_existing_catalog_alone(self):
        seed(products=20, seed=1)
        before = snapshot()

        out = seed(products=50, seed=2, if_empty=True)

        assert "nothing seeded" in out
        assert snapshot() == before

    def test_if_empty_seeds_an_empty_catalog(self):
        seed(products=15, if_empty=True)

        assert Product.objects.count() == 15

    def test_without_if_empty_products_are_added_after_the_existing_ones(self):
        seed(products=20, seed=1)
        highest = Product.objects.order_by("-pk").first()
        categories = Category.objects.count()

        out = seed(products=25, seed=1)

        assert Product.objects.count() == 45
        assert Category.objects.count() == categories
        new = Product.objects.filter(pk__gt=highest.pk).order_by("pk").first()
        assert new.slug == demo.product(1, highest.pk + 1, currency=settings.SHOP_CURRENCY).slug
        assert "Seeded 25 products" in out

    def test_a_clash_with_an_existing_sku_writes_nothing(self):
        category = services.category_create(name="Misc", slug="misc")
        product = services.product_create(name="Hand-made", slug="hand-made", category=category)
        clashing = demo.product(1, product.pk + 1, currency=settings.SHOP_CURRENCY).variants[0].sku
        services.variant_create(product=product, sku=clashing, name="Clash")

        with pytest.raises(CommandError, match="nothing was written"):
            seed(products=10, seed=1)

        assert list(Product.objects.values_list("slug", flat=True)) == ["hand-made"]
        assert not Category.objects.filter(slug="outdoor").exists()

    def test_a_negative_number_of_products_is_refused(self):
        with pytest.raises(CommandError):
            seed(products=-1)


def test_the_product_list_api_returns_seeded_products(api_client):
    seed(products=40, seed=5)

    response = api_client.get(PRODUCTS, {"ordering": "price"})

    assert response.status_code == 200
    results = response.json()["results"]
    listed = Product.objects.filter(is_active=True, price_from__isnull=False)
    assert len(results) == min(settings.API_PAGE_SIZE, listed.count())
    cheapest = listed.order_by("price_from", "id").first()
    assert results[0]["slug"] == cheapest.slug
    assert results[0]["price_from"] == {
        "amount": f"{cheapest.price_from:.2f}",
        "currency": settings.SHOP_CURRENCY,
    }


def test_the_product_detail_api_shows_a_seeded_product(api_client):
    seed(products=5, seed=5)
    product = Product.objects.filter(is_active=True).order_by("pk").first()

    response = api_client.get(f"{PRODUCTS}{product.slug}/")

    assert response.status_code == 200
    body = response.json()
    assert [variant["sku"] for variant in body["variants"]] == [
        sku for sku in product.sku_text.split() if Variant.objects.get(sku=sku).is_active
    ]
    assert 2 <= len(body["attributes"]) <= 4


@pytest.mark.postgres
def test_search_vector_is_filled_and_searchable(api_client):
    seed(products=60, seed=3)

    assert not Product.objects.filter(search_vector__isnull=True).exists()
    product = Product.objects.filter(is_active=True).order_by("pk").first()
    sku = product.sku_text.split()[0]

    by_sku = api_client.get(PRODUCTS, {"search": sku})
    by_name = api_client.get(PRODUCTS, {"search": product.name})

    assert product.slug in [item["slug"] for item in by_sku.json()["results"]]
    assert product.slug in [item["slug"] for item in by_name.json()["results"]]


def test_demo_stock_is_received_through_inventory_and_the_flags_agree():
    from inventory import api as inventory_api

    seed(products=30)

    variants = list(Variant.objects.values_list("sku", "in_stock"))
    availability = inventory_api.get_availability(skus=[sku for sku, _ in variants])
    assert all(availability[sku].on_hand > 0 for sku, in_stock in variants if in_stock)
    assert all(availability[sku].available == 0 for sku, in_stock in variants if not in_stock)
    for product in Product.objects.prefetch_related("variants"):
        assert product.in_stock == any(v.in_stock for v in product.variants.all() if v.is_active)
    from inventory.events import StockChanged
    from tests.events import published

    # The seed sets the flags itself: no flood of StockChanged for a fresh worker to confirm.
    assert not published(StockChanged)


def test_no_stock_leaves_inventory_empty():
    from inventory import api as inventory_api

    seed(products=5, stock=False)

    skus = list(Variant.objects.values_list("sku", flat=True))
    assert all(item.on_hand == 0 for item in inventory_api.get_availability(skus=skus).values())
    # The inventory knows them all, so staff can give them their first stock.
    assert all(inventory_api.is_known_sku(sku=sku) for sku in skus)
