"""
The catalog's bulk engine: the set-based writes of imports and bulk loads, and the storefront's
read models recomputed for a set of products. On PostgreSQL each function costs a fixed handful
of statements whatever the number of rows, which travel as arrays bound on the server
(``shop.kernel.db.bound_cursor``, ``unnest``); elsewhere the ORM's bulk statements do the same
work. The twins sit side by side: ``_x`` and ``_x_postgres``, or the two branches of a function.

``services`` writes one entity at a time and refreshes the read models through
``refresh_read_models`` here, so that ``price_from``, ``sku_text`` and ``in_stock`` are computed
in one place whether a variant was saved in the admin or a thousand came in an import.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from catalog import cache
from catalog.data import ProductProblems, ProductRow, UpsertResult
from catalog.events import PriceChanged, ProductChanged
from catalog.models import SKU_VALIDATOR, Attribute, AttributeValue, Category, Price, Product, Variant
from inventory import api as inventory_api
from shop.kernel.db import bound_cursor, bulk_update
from shop.kernel.events import publish_many
from shop.kernel.text import echo

# --- read models: price_from, sku_text, in_stock -------------------------------------------------


def refresh_read_models(product_ids: Iterable[int]) -> None:
    """
    Recompute ``price_from`` (shop currency), ``sku_text`` and ``in_stock`` of the given products,
    as every write of a variant or price must (``services`` after one entity, ``products_upsert``
    after a chunk): four statements on PostgreSQL, whatever the number of products.
    """
    product_ids = list(product_ids)
    refresh_price_from(product_ids)
    skus = _skus_by_product(product_ids)
    _write_sku_texts({product_id: " ".join(product_skus) for product_id, product_skus in skus.items()})
    refresh_in_stock(product_ids)


def _skus_by_product(product_ids: list[int]) -> dict[int, list[str]]:
    """The SKUs of each product in their display order (``sku_text``, ``ProductChanged``), one query."""
    skus: dict[int, list[str]] = {pk: [] for pk in product_ids}
    for product_id, sku in (
        Variant.objects.filter(product_id__in=product_ids)
        .order_by("position", "id")
        .values_list("product_id", "sku")
    ):
        skus[product_id].append(sku)
    return skus


def _write_sku_texts(texts: dict[int, str]) -> None:
    """
    Set ``sku_text`` by product id, leaving a product whose text stays the same untouched (its
    search vector is not recomputed): on PostgreSQL one UPDATE from arrays, elsewhere one each.
    """
    if not texts:
        return
    if connection.vendor != "postgresql":
        for product_id, text in texts.items():
            Product.objects.filter(pk=product_id).exclude(sku_text=text).update(sku_text=text)
        return
    table = connection.ops.quote_name(Product._meta.db_table)
    with bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET sku_text = v.text "  # noqa: S608 - a model's table name
            "FROM unnest(%s::bigint[], %s::text[]) AS v(id, text) "
            "WHERE p.id = v.id AND p.sku_text IS DISTINCT FROM v.text",
            [list(texts), list(texts.values())],
        )


def refresh_price_from(product_ids: Iterable[int]) -> None:
    """
    Recompute ``price_from`` (the lowest price of an active variant in the shop currency, None
    if there is none) with one UPDATE; on PostgreSQL it leaves a product whose lowest price stays
    the same untouched (no new row version). No statement for no products.
    """
    product_ids = list(product_ids)
    if not product_ids:
        return
    if connection.vendor == "postgresql":
        product, variant, price = (
            connection.ops.quote_name(model._meta.db_table) for model in (Product, Variant, Price)
        )
        with bound_cursor() as cursor:
            cursor.execute(
                f"UPDATE {product} AS p SET price_from = m.lowest FROM ("  # noqa: S608 - models' table names
                f"  SELECT ids.id, (SELECT MIN(pr.amount) FROM {price} pr"
                f" JOIN {variant} v ON v.id = pr.variant_id"
                "   WHERE v.product_id = ids.id AND v.is_active AND pr.currency = %s"
                ") AS lowest"
                "  FROM unnest(%s::bigint[]) AS ids(id)"
                ") AS m WHERE p.id = m.id AND p.price_from IS DISTINCT FROM m.lowest",
                [settings.SHOP_CURRENCY, product_ids],
            )
        return
    lowest = (
        Price.objects.filter(
            variant__product=OuterRef("pk"), variant__is_active=True, currency=settings.SHOP_CURRENCY
        )
        .order_by()
        .values("variant__product")
        .annotate(lowest=Min("amount"))
        .values("lowest")
    )
    Product.objects.filter(pk__in=product_ids).update(price_from=Subquery(lowest))


def stocked_variants() -> QuerySet[Variant]:
    """
    The variants that put their product in stock: active ones in stock. The one rule of a
    product's ``in_stock`` (a product is in stock if any of its active variants is), for
    ``refresh_in_stock`` and ``services.stock_flags_set``.
    """
    return Variant.objects.filter(is_active=True, in_stock=True)


def refresh_in_stock(product_ids: Iterable[int]) -> None:
    """Recompute ``in_stock`` of the given products with one UPDATE (see ``stocked_variants``)."""
    Product.objects.filter(pk__in=list(product_ids)).update(
        in_stock=Exists(stocked_variants().filter(product=OuterRef("pk")))
    )


# --- prices (imports) ---------------------------------------------------------------------------


@transaction.atomic
def prices_set_many(*, prices: Sequence[tuple[str, Decimal, str]]) -> tuple[int, int, set[str]]:
    """
    Set many prices at once with bulk statements, in one transaction (bulk imports).

    ``prices`` holds ``(sku, amount, currency)`` with validated, quantised amounts and at most one
    row per SKU and currency. Unknown SKUs are skipped and returned. The existing rows are locked
    in primary-key order (so that two bulk writers cannot deadlock), the changed or new ones are
    written by one ``INSERT … ON CONFLICT DO UPDATE``, a ``PriceChanged`` per change goes to the
    outbox in one statement, ``price_from`` of the affected products is recomputed by one UPDATE
    and their cached details are dropped on commit. Returns ``(changed, unchanged, unknown_skus)``.

    On PostgreSQL every statement carries the chunk as arrays bound on the server
    (``shop.kernel.db.bound_cursor``): a chunk of thousands of rows costs a handful of statements
    and no quoting of values in Python.
    """
    if not prices:
        return 0, 0, set()
    postgres = connection.vendor == "postgresql"
    # (sku, amount, currency, variant_id or None, product_id, previous amount or None)
    rows = _lock_price_rows_postgres(prices) if postgres else _lock_price_rows(prices)
    unknown_rows = [row for row in rows if row[3] is None]
    changed = [row for row in rows if row[3] is not None and row[5] != row[1]]
    if changed:
        _upsert_prices([(variant_id, currency, amount) for _, amount, currency, variant_id, _, _ in changed])
        publish_many(
            PriceChanged(sku=sku, currency=currency, amount=amount, previous_amount=before)
            for sku, amount, currency, _, _, before in changed
        )
        product_ids = sorted({product_id for _, _, _, _, product_id, _ in changed})
        # Products locked in key order too, before their read model is rewritten.
        slugs = _lock_products_postgres(product_ids) if postgres else _lock_products(product_ids)
        if any(currency == settings.SHOP_CURRENCY for _, _, currency, _, _, _ in changed):
            refresh_price_from(product_ids)
        cache.invalidate_on_commit(product_slugs=slugs)
    return len(changed), len(rows) - len(unknown_rows) - len(changed), {row[0] for row in unknown_rows}


def _lock_price_rows(prices: Sequence[tuple[str, Decimal, str]]) -> list[tuple]:
    """The rows of ``prices`` with their variant, product and current amount (existing ones locked)."""
    variants = {
        sku: (pk, product_id)
        for sku, pk, product_id in Variant.objects.filter(sku__in={row[0] for row in prices}).values_list(
            "sku", "pk", "product_id"
        )
    }
    previous = {
        (variant_id, currency): amount
        for variant_id, currency, amount in Price.objects.select_for_update()
        .filter(
            variant_id__in={variants[sku][0] for sku, _, _ in prices if sku in variants},
            currency__in={currency for _, _, currency in prices},
        )
        .order_by("pk")
        .values_list("variant_id", "currency", "amount")
    }
    rows = []
    for sku, amount, currency in prices:
        variant_id, product_id = variants.get(sku, (None, None))
        rows.append((sku, amount, currency, variant_id, product_id, previous.get((variant_id, currency))))
    return rows


def _lock_price_rows_postgres(prices: Sequence[tuple[str, Decimal, str]]) -> list[tuple]:
    """``_lock_price_rows`` in one statement: the rows travel as arrays, prices lock in id order."""
    variant, price = (connection.ops.quote_name(model._meta.db_table) for model in (Variant, Price))
    with bound_cursor() as cursor:
        cursor.execute(
            "WITH input AS ("  # noqa: S608 - models' table names
            "  SELECT * FROM unnest(%s::varchar[], %s::numeric[], %s::varchar[]) WITH ORDINALITY"
            "  AS t(sku, amount, currency, n)"
            "), locked AS ("
            f"  SELECT pr.variant_id, pr.currency, pr.amount FROM {price} pr"
            f"  JOIN {variant} v ON v.id = pr.variant_id"
            "   JOIN input i ON i.sku = v.sku AND i.currency = pr.currency"
            "  ORDER BY pr.id FOR UPDATE OF pr"
            ") "
            "SELECT i.sku, i.amount, i.currency, v.id, v.product_id, l.amount FROM input i"
            f" LEFT JOIN {variant} v ON v.sku = i.sku"
            " LEFT JOIN locked l ON l.variant_id = v.id AND l.currency = i.currency"
            " ORDER BY i.n",
            [[row[0] for row in prices], [row[1] for row in prices], [row[2] for row in prices]],
        )
        return cursor.fetchall()


def _lock_products(product_ids: list[int]) -> list[str]:
    """Lock the products in key order; return their slugs."""
    return list(
        Product.objects.select_for_update()
        .filter(pk__in=product_ids)
        .order_by("pk")
        .values_list("slug", flat=True)
    )


def _lock_products_postgres(product_ids: list[int]) -> list[str]:
    product = connection.ops.quote_name(Product._meta.db_table)
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT slug FROM {product} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",  # noqa: S608
            [product_ids],
        )
        return [slug for (slug,) in cursor.fetchall()]


def _upsert_prices(rows: list[tuple[int, str, Decimal]]) -> None:
    """
    Insert or update ``(variant_id, currency, amount)`` rows with one statement. On PostgreSQL
    the rows travel as three arrays (``unnest``), which spares building and binding a model
    instance and six parameters per row; elsewhere the ORM's upsert does the same.
    """
    now = timezone.now()
    if connection.vendor != "postgresql":
        Price.objects.bulk_create(
            [
                Price(variant_id=variant_id, currency=currency, amount=amount, updated_at=now)
                for variant_id, currency, amount in rows
            ],
            update_conflicts=True,
            unique_fields=["variant", "currency"],
            update_fields=["amount", "updated_at"],
        )
        return
    table = connection.ops.quote_name(Price._meta.db_table)
    with bound_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (variant_id, currency, amount, updated_at) "  # noqa: S608 - a model's table name
            "SELECT v, c, a, %s FROM unnest(%s::bigint[], %s::varchar[], %s::numeric[]) AS t(v, c, a) "
            "ON CONFLICT (variant_id, currency) DO UPDATE "
            "SET amount = EXCLUDED.amount, updated_at = EXCLUDED.updated_at",
            [now, [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]],
        )


# --- stock flags (bulk loads) --------------------------------------------------------------------


@transaction.atomic
def stock_flags_set_many(*, in_stock: bool, skus: Iterable[str]) -> None:
    """``stock_flags_set`` for many SKUs at once (bulk loads); unknown SKUs are ignored."""
    skus = list(skus)
    if not skus:
        return
    Variant.objects.filter(sku__in=skus).update(in_stock=in_stock)
    product_ids = set(Variant.objects.filter(sku__in=skus).values_list("product_id", flat=True))
    refresh_in_stock(product_ids)
    slugs = Product.objects.filter(pk__in=product_ids).values_list("slug", flat=True)
    cache.invalidate_on_commit(product_slugs=list(slugs))


# --- bulk product upserts (imports) -----------------------------------------------------------

_MAX_BIGINT = 2**63 - 1


def attribute_value_coerce(kind: str, value: Any) -> Any:
    """
    Return ``value`` (a JSON value) as the column of an attribute of ``kind`` stores it.

    Raises:
        ValueError: ``value`` is not of the kind's type or does not fit its column.
    """
    if kind == Attribute.Kind.TEXT:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("a non-empty text is expected")
        if len(value) > 500:
            raise ValueError("a text of at most 500 characters is expected")
        return value
    if kind == Attribute.Kind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_BIGINT:
            raise ValueError("an integer is expected")
        return value
    if kind == Attribute.Kind.DECIMAL:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("a decimal number is expected")
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValueError("a decimal number is expected") from None
        if not number.is_finite() or number.adjusted() >= 10 or number != number.quantize(Decimal("0.0001")):
            raise ValueError(
                "a decimal number with at most 10 digits before and 4 after the point is expected"
            )
        return number
    if kind == Attribute.Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("true or false is expected")
        return value
    raise ValueError(f"unknown attribute kind {kind!r}")


def products_check(*, rows: Sequence[ProductRow]) -> list[ProductProblems]:
    """
    The problems of every row (in order; an empty ``ProductProblems`` if none) that
    ``products_upsert`` would refuse, in three queries: categories, attributes and SKUs.
    """
    categories = set(
        Category.objects.filter(slug__in={row.category_slug for row in rows}).values_list("slug", flat=True)
    )
    codes = {code for row in rows for code in row.attributes}
    kinds = dict(Attribute.objects.filter(code__in=codes).values_list("code", "kind"))
    owners = dict(
        Variant.objects.filter(sku__in={v.sku for row in rows for v in row.variants}).values_list(
            "sku", "product__slug"
        )
    )
    seen_slugs: set[str] = set()
    seen_skus: set[str] = set()
    result = []
    for row in rows:
        product: list[str] = []
        try:
            validate_slug(row.slug)
            if len(row.slug) > 200:
                raise ValidationError("too long")
        except ValidationError:
            product.append(f"Product slug {echo(row.slug)} is not a slug (1-200 letters, digits, - or _).")
        if row.slug in seen_slugs:
            product.append(f"Product {echo(row.slug)} is given twice.")
        seen_slugs.add(row.slug)
        if not row.name.strip() or len(row.name) > 300:
            product.append(f"Product {echo(row.slug)}: the name must have 1-300 characters.")
        if row.category_slug not in categories:
            product.append(f"Product {echo(row.slug)}: unknown category {echo(row.category_slug)}.")
        for code, value in row.attributes.items():
            if code not in kinds:
                product.append(f"Product {echo(row.slug)}: unknown attribute {echo(code)}.")
                continue
            try:
                attribute_value_coerce(kinds[code], value)
            except ValueError as exc:
                product.append(
                    f"Product {echo(row.slug)}: attribute {echo(code)} ({kinds[code]}): {exc}, "
                    f"not {echo(value)}."
                )
        skus: dict[str, str] = {}
        for variant in row.variants:
            try:
                SKU_VALIDATOR(variant.sku)
            except ValidationError:
                skus[variant.sku] = f"SKU {echo(variant.sku)} is malformed: {SKU_VALIDATOR.message}"
                continue
            if variant.sku in seen_skus:
                skus[variant.sku] = f"SKU {echo(variant.sku)} is given twice."
            elif owners.get(variant.sku, row.slug) != row.slug:
                skus[variant.sku] = (
                    f"SKU {echo(variant.sku)} belongs to another product ({echo(owners[variant.sku])})."
                )
            elif not variant.name.strip() or len(variant.name) > 300:
                skus[variant.sku] = f"SKU {echo(variant.sku)}: the variant name must have 1-300 characters."
            elif not isinstance(variant.is_active, bool):
                skus[variant.sku] = f"SKU {echo(variant.sku)}: is_active must be True or False."
            seen_skus.add(variant.sku)
        result.append(ProductProblems(product=tuple(product), skus=skus))
    return result


@transaction.atomic
def products_upsert(*, rows: Sequence[ProductRow]) -> UpsertResult:
    """
    Create or update the products of ``rows`` (by slug), their variants (by SKU) and attribute
    values in the current transaction, then refresh the read models of the products that
    changed, publish one ``ProductChanged`` each (one INSERT) and drop their cached details on
    commit. Rows must pass ``products_check`` (the caller's job, ``catalog.api``).

    A variant's ``is_active`` is written like its name. The read models are refreshed by
    ``refresh_read_models``, as after ``variant_save``: ``price_from`` and ``in_stock`` count
    active variants only, so deactivating a variant takes it out of both.
    """
    categories = dict(
        Category.objects.filter(slug__in={row.category_slug for row in rows}).values_list("slug", "pk")
    )
    attributes = {
        attribute.code: attribute
        for attribute in Attribute.objects.filter(code__in={code for row in rows for code in row.attributes})
    }
    products = {
        product.slug: product for product in Product.objects.filter(slug__in=[row.slug for row in rows])
    }
    variants = {
        variant.sku: variant
        for variant in Variant.objects.filter(sku__in=[v.sku for row in rows for v in row.variants])
    }
    values = {
        (value.product_id, value.attribute_id): value
        for value in AttributeValue.objects.filter(
            product__slug__in=[row.slug for row in rows], attribute__in=list(attributes.values())
        )
    }
    # Rows are validated here and written with one INSERT (new) and one UPDATE (changed) per model.
    # Foreign keys are not re-checked row by row: the category was looked up above, the product
    # is the one at hand.
    now = timezone.now()
    new_products: list[Product] = []
    changed_products: list[Product] = []
    changed_ids: set[int] = set()
    for row in rows:
        product = products.get(row.slug)
        wanted = {
            "name": row.name,
            "description": row.description,
            "category_id": categories[row.category_slug],
        }
        if product is None:
            product = products[row.slug] = Product(slug=row.slug, **wanted)
            product.full_clean(exclude=["category"], validate_unique=False, validate_constraints=False)
            new_products.append(product)
        elif any(getattr(product, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(product, name, value)
            product.updated_at = now
            product.full_clean(exclude=["category"], validate_unique=False, validate_constraints=False)
            changed_products.append(product)
            changed_ids.add(product.pk)
    Product.objects.bulk_create(new_products)
    bulk_update(changed_products, ["name", "description", "category", "updated_at"])

    positions = dict(  # where a new variant of an existing product goes: after the others
        Variant.objects.filter(product_id__in=[product.pk for product in products.values()])
        .order_by()
        .values("product_id")
        .annotate(count=Count("id"))
        .values_list("product_id", "count")
    )
    new_variants: list[Variant] = []
    changed_variants: list[Variant] = []
    for row in rows:
        product = products[row.slug]
        for variant_row in row.variants:
            variant = variants.get(variant_row.sku)
            if variant is None:
                variant = Variant(
                    product=product,
                    sku=variant_row.sku,
                    name=variant_row.name,
                    is_active=variant_row.is_active,
                    position=positions.get(product.pk, 0),
                )
                positions[product.pk] = variant.position + 1
                variant.full_clean(exclude=["product"], validate_unique=False, validate_constraints=False)
                new_variants.append(variant)
            elif (variant.name, variant.is_active) != (variant_row.name, variant_row.is_active):
                variant.name, variant.is_active = variant_row.name, variant_row.is_active
                variant.full_clean(exclude=["product"], validate_unique=False, validate_constraints=False)
                changed_variants.append(variant)
            else:
                continue
            changed_ids.add(product.pk)
    Variant.objects.bulk_create(new_variants)
    bulk_update(changed_variants, ["name", "is_active"])
    if new_variants:
        inventory_api.register_skus(skus=[variant.sku for variant in new_variants])

    new_values: list[AttributeValue] = []
    changed_values: list[AttributeValue] = []
    for row in rows:
        product = products[row.slug]
        for code, raw in row.attributes.items():
            attribute = attributes[code]
            stored = attribute_value_coerce(attribute.kind, raw)
            instance = values.get((product.pk, attribute.pk)) or AttributeValue(
                product=product, attribute=attribute
            )
            column = f"value_{attribute.kind}"
            if instance.pk is not None and getattr(instance, column) == stored:
                continue
            for name in ("value_text", "value_integer", "value_decimal", "value_boolean"):
                setattr(instance, name, "" if name == "value_text" else None)
            setattr(instance, column, stored)
            instance.full_clean(
                exclude=["product", "attribute"], validate_unique=False, validate_constraints=False
            )
            (new_values if instance.pk is None else changed_values).append(instance)
            changed_ids.add(product.pk)
    AttributeValue.objects.bulk_create(new_values)
    bulk_update(changed_values, ["value_text", "value_integer", "value_decimal", "value_boolean"])

    created_ids = [product.pk for product in new_products]
    changed_ids = sorted(changed_ids - set(created_ids))
    unchanged = len(rows) - len(created_ids) - len(changed_ids)
    touched = created_ids + changed_ids
    if touched:
        refresh_read_models(touched)
        created_set = set(created_ids)
        skus = _skus_by_product(touched)
        slugs = dict(Product.objects.filter(pk__in=touched).values_list("pk", "slug"))
        publish_many(
            ProductChanged(
                product_id=pk,
                slug=slugs[pk],
                change="created" if pk in created_set else "updated",
                skus=skus[pk],
            )
            for pk in touched
        )
        cache.invalidate_on_commit(product_slugs=slugs.values())
    return UpsertResult(
        products_created=len(created_ids),
        products_updated=len(changed_ids),
        products_unchanged=unchanged,
        variants_created=len(new_variants),
        variants_updated=len(changed_variants),
    )
