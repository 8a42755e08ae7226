"""
factory-boy factories for the catalog, and the states other contexts' tests need of it (off sale,
out of stock): they write through the catalog's services like any other writer, so that a test of
the cart or checkout never reaches into the catalog's private modules itself.
"""

from decimal import Decimal

import factory

from catalog import api as catalog_api
from catalog import services
from catalog.models import Attribute, Category, Price, Product, Variant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.category_save(category=model_class(*args, **kwargs))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A sturdy everyday product."
    category = factory.SubFactory(CategoryFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.product_save(product=model_class(*args, **kwargs))


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Variant {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.variant_save(variant=model_class(*args, **kwargs))


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    variant = factory.SubFactory(VariantFactory)
    currency = "EUR"
    amount = Decimal("19.99")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.price_save(price=model_class(*args, **kwargs))


class AttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attribute

    code = factory.Sequence(lambda n: f"attr-{n}")
    name = factory.Sequence(lambda n: f"Attribute {n}")
    kind = Attribute.Kind.TEXT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.attribute_save(attribute=model_class(*args, **kwargs))


def sellable_product(*, name=None, price="19.99", skus=None, category=None, description=None, **kwargs):
    """A product with variants priced in the shop currency: what the storefront lists."""
    extra = {"name": name} if name else {}
    if category is not None:
        extra["category"] = category
    if description is not None:
        extra["description"] = description
    product = ProductFactory(**extra, **kwargs)
    prices = price if isinstance(price, (list, tuple)) else [price]
    skus = skus or [None] * len(prices)
    for sku, amount in zip(skus, prices, strict=True):
        variant = VariantFactory(product=product, **({"sku": sku} if sku else {}))
        PriceFactory(variant=variant, amount=Decimal(amount))
    product.refresh_from_db()
    return product


def price_of(sku: str, currency: str = "EUR") -> Decimal | None:
    """The price of ``sku`` in ``currency`` as ``catalog.api`` answers it (None: no price)."""
    info = catalog_api.get_variants(skus=[sku], currency=currency).get(sku)
    return info.price.amount if info and info.price else None


def take_off_sale(*, sku: str | None = None, product: Product | None = None) -> None:
    """The catalog stops selling a variant (``sku``) or a whole ``product``, as staff would."""
    if sku is not None:
        services.variant_update(variant=Variant.objects.get(sku=sku), is_active=False)
    if product is not None:
        services.product_update(product=product, is_active=False)


def shown_out_of_stock(sku: str) -> None:
    """The storefront's flag of ``sku`` as inventory's ``StockChanged`` handler sets it when none is left."""
    services.stock_flags_set(sku=sku, in_stock=False)
