"""
The catalog's entity writes. Every change of one category, product, variant, attribute or price
passes through here, from the admin, the api or a management command, so that each one is
validated, keeps the read models (``price_from``, ``sku_text``, ``in_stock``, through
``bulk.refresh_read_models``; the search vector by trigger) current, publishes its event in the
same transaction and drops the cache entries it makes stale on commit. Writes of many rows at
once (imports, bulk loads) are the bulk engine's, ``catalog.bulk``.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction

from catalog import cache
from catalog.bulk import refresh_read_models, stocked_variants
from catalog.events import PriceChanged, ProductChanged
from catalog.models import Attribute, AttributeValue, Category, Price, Product, Variant
from inventory import api as inventory_api
from shop.kernel.events import publish

# --- categories ---------------------------------------------------------------------------


@transaction.atomic
def category_save(*, category: Category) -> Category:
    """Validate and save ``category``; a new slug or parent moves its whole sub-tree."""
    old_path = None
    if category.pk is not None:
        old_path = Category.objects.filter(pk=category.pk).values_list("path", flat=True).first()
    category.path = category.build_path()
    category.full_clean()
    category.save()
    affected_ids = [category.pk]
    if old_path and old_path != category.path:
        for child in (
            Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk).order_by("path")
        ):
            child.path = category.path + child.path.removeprefix(old_path)
            child.save(update_fields=["path"])
            affected_ids.append(child.pk)
    slugs = Product.objects.filter(category_id__in=affected_ids).values_list("slug", flat=True)
    cache.invalidate_on_commit(product_slugs=list(slugs), tree=True)
    return category


def category_create(*, name: str, slug: str, parent: Category | None = None, position: int = 0) -> Category:
    return category_save(category=Category(name=name, slug=slug, parent=parent, position=position))


def category_update(*, category: Category, **changes: Any) -> Category:
    for name, value in changes.items():
        setattr(category, name, value)
    return category_save(category=category)


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete an empty category (one with products or children is protected)."""
    category.delete()
    cache.invalidate_on_commit(tree=True)


# --- products -----------------------------------------------------------------------------


def _product_changed(product: Product, change: str, *, stale_slugs: Iterable[str] = ()) -> None:
    skus = (
        list(Variant.objects.filter(product_id=product.pk).values_list("sku", flat=True))
        if change != "deleted"
        else []
    )
    publish(ProductChanged(product_id=product.pk, slug=product.slug, change=change, skus=skus))
    cache.invalidate_on_commit(product_slugs=[product.slug, *stale_slugs])


@transaction.atomic
def product_save(*, product: Product) -> Product:
    """Validate and save ``product`` (created or changed)."""
    created = product.pk is None
    old_slug = (
        None if created else Product.objects.filter(pk=product.pk).values_list("slug", flat=True).first()
    )
    product.full_clean()
    product.save()
    _product_changed(product, "created" if created else "updated", stale_slugs=[old_slug] if old_slug else [])
    return product


def product_create(
    *, name: str, slug: str, category: Category, description: str = "", is_active: bool = True
) -> Product:
    return product_save(
        product=Product(name=name, slug=slug, category=category, description=description, is_active=is_active)
    )


def product_update(*, product: Product, **changes: Any) -> Product:
    for name, value in changes.items():
        setattr(product, name, value)
    return product_save(product=product)


@transaction.atomic
def product_delete(*, product: Product) -> None:
    skus = list(product.variants.values_list("sku", flat=True))
    for sku, currency, amount in Price.objects.filter(variant__product=product).values_list(
        "variant__sku", "currency", "amount"
    ):
        publish(PriceChanged(sku=sku, currency=currency, amount=None, previous_amount=amount))
    pk, slug = product.pk, product.slug
    product.delete()
    publish(ProductChanged(product_id=pk, slug=slug, change="deleted", skus=skus))
    cache.invalidate_on_commit(product_slugs=[slug])


# --- variants -----------------------------------------------------------------------------


@transaction.atomic
def variant_save(*, variant: Variant) -> Variant:
    """
    Validate and save ``variant``; its product's SKUs and lowest price follow, and the inventory
    learns its SKU (so that staff can give it stock).
    """
    variant.full_clean()
    variant.save()
    inventory_api.register_skus(skus=[variant.sku])
    refresh_read_models([variant.product_id])
    _product_changed(variant.product, "updated")
    return variant


def variant_create(
    *, product: Product, sku: str, name: str, position: int = 0, is_active: bool = True
) -> Variant:
    return variant_save(
        variant=Variant(product=product, sku=sku, name=name, position=position, is_active=is_active)
    )


def variant_update(*, variant: Variant, **changes: Any) -> Variant:
    for name, value in changes.items():
        setattr(variant, name, value)
    return variant_save(variant=variant)


@transaction.atomic
def variant_delete(*, variant: Variant) -> None:
    product = variant.product
    for price in variant.prices.all():
        publish(
            PriceChanged(sku=variant.sku, currency=price.currency, amount=None, previous_amount=price.amount)
        )
    variant.delete()
    refresh_read_models([product.pk])
    _product_changed(product, "updated")


# --- prices -------------------------------------------------------------------------------


@transaction.atomic
def price_save(*, price: Price) -> Price:
    """Validate and save ``price``; publishes ``PriceChanged`` if the amount changed."""
    previous = None
    if price.pk is not None:
        previous = (
            Price.objects.select_for_update().filter(pk=price.pk).values_list("amount", flat=True).first()
        )
    price.full_clean()
    price.save()
    variant = price.variant
    if previous != price.amount:
        publish(
            PriceChanged(
                sku=variant.sku, currency=price.currency, amount=price.amount, previous_amount=previous
            )
        )
    refresh_read_models([variant.product_id])
    cache.invalidate_on_commit(product_slugs=[variant.product.slug])
    return price


@transaction.atomic
def price_set(*, variant: Variant, currency: str, amount: Decimal) -> Price:
    """Set the price of ``variant`` in ``currency`` (creating or changing it)."""
    price = Price.objects.select_for_update().filter(variant=variant, currency=currency).first()
    if price is None:
        price = Price(variant=variant, currency=currency)
    price.amount = amount
    return price_save(price=price)


@transaction.atomic
def price_delete(*, price: Price) -> None:
    variant = price.variant
    publish(PriceChanged(sku=variant.sku, currency=price.currency, amount=None, previous_amount=price.amount))
    price.delete()
    refresh_read_models([variant.product_id])
    cache.invalidate_on_commit(product_slugs=[variant.product.slug])


# --- attributes ---------------------------------------------------------------------------


@transaction.atomic
def attribute_save(*, attribute: Attribute) -> Attribute:
    attribute.full_clean()
    attribute.save()
    slugs = Product.objects.filter(attribute_values__attribute=attribute).values_list("slug", flat=True)
    cache.invalidate_on_commit(product_slugs=list(slugs))
    return attribute


@transaction.atomic
def attribute_value_save(*, value: AttributeValue) -> AttributeValue:
    """Validate and save one product's attribute value (in the column of the attribute's kind)."""
    value.full_clean()
    value.save()
    _product_changed(value.product, "updated")
    return value


def attribute_value_set(*, product: Product, attribute: Attribute, value: Any) -> AttributeValue:
    """Set ``product``'s value of ``attribute``, storing it in the column of the attribute's kind."""
    instance = AttributeValue.objects.filter(product=product, attribute=attribute).first() or AttributeValue(
        product=product, attribute=attribute
    )
    column = f"value_{attribute.kind}"
    for name in ("value_text", "value_integer", "value_decimal", "value_boolean"):
        setattr(instance, name, "" if name == "value_text" else None)
    setattr(instance, column, value)
    return attribute_value_save(value=instance)


@transaction.atomic
def attribute_value_delete(*, value: AttributeValue) -> None:
    product = value.product
    value.delete()
    _product_changed(product, "updated")


# --- availability (the read model fed by inventory's events) --------------------------------


@transaction.atomic
def stock_flags_set(*, sku: str, in_stock: bool) -> None:
    """
    Set the variant's ``in_stock`` flag and recompute its product's (in stock if any active
    variant is). Unknown SKUs are ignored: the inventory may hold SKUs the catalog does not
    list. The product row is locked first, so that two variants of one product changing at
    once cannot leave the product's flag computed from a stale sibling.
    """
    variant = Variant.objects.filter(sku=sku).values_list("pk", "product_id").first()
    if variant is None:
        return
    variant_id, product_id = variant
    slug = Product.objects.select_for_update().filter(pk=product_id).values_list("slug", flat=True).first()
    changed = Variant.objects.filter(pk=variant_id).exclude(in_stock=in_stock).update(in_stock=in_stock)
    product_in_stock = stocked_variants().filter(product_id=product_id).exists()
    changed += (
        Product.objects.filter(pk=product_id)
        .exclude(in_stock=product_in_stock)
        .update(in_stock=product_in_stock)
    )
    if changed:
        cache.invalidate_on_commit(product_slugs=[slug])
