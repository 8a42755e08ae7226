"""
``manage.py seed_demo``: a realistic, deterministic demo catalog, written in bulk.

The data come from ``catalog.demo``; this command writes them. The few categories and attributes
go through the services like any other write. Products, variants, prices and attribute values
are bulk loaded (PostgreSQL's COPY, ``bulk_create`` elsewhere) with the read-model columns the
services would keep (``price_from``, ``sku_text``) computed up front; PostgreSQL's trigger fills
``search_vector`` from them as the rows arrive.

No ``ProductChanged`` or ``PriceChanged`` events are published: a seed is a bulk load of a demo
catalog, not a series of changes, and sending a few hundred thousand events through the outbox
would only flood the relay. A consumer that mirrors the catalog (a feed, a search index) takes
a full snapshot after seeding instead.
"""

import argparse
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from catalog import bulk, cache, demo, services
from catalog.models import Attribute, AttributeValue, Category, Price, Product, Variant
from inventory import api as inventory_api

PRODUCT_COLUMNS = (
    "id",
    "slug",
    "name",
    "description",
    "category",
    "is_active",
    "price_from",
    "in_stock",
    "sku_text",
    "created_at",
    "updated_at",
)
VARIANT_COLUMNS = ("id", "product", "sku", "name", "position", "is_active", "in_stock")
PRICE_COLUMNS = ("variant", "currency", "amount", "updated_at")
VALUE_COLUMNS = ("product", "attribute", "value_text", "value_integer", "value_decimal", "value_boolean")


def _value_columns(kind: str, value) -> tuple:
    """``value`` in the column of its attribute's kind: (text, integer, decimal, boolean)."""
    return (
        value if kind == Attribute.Kind.TEXT else "",
        value if kind == Attribute.Kind.INTEGER else None,
        value if kind == Attribute.Kind.DECIMAL else None,
        value if kind == Attribute.Kind.BOOLEAN else None,
    )


class Command(BaseCommand):
    help = (
        "Create a deterministic demo catalog: a category tree, typed attributes and --products "
        "products with 1-5 variants, prices and attribute values each. The same --products and "
        "--seed give the same data. With --if-empty nothing is done if any product exists. "
        "Without it, the new products are added after the existing ones: their numbers (in "
        "slugs and SKUs) start above the highest product id, and categories and attributes with "
        "the demo's slugs and codes are reused. Everything is written in one transaction; a "
        "clash with an existing slug or SKU rolls it all back. No catalog events are published."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=2000, help="How many products (default 2000).")
        parser.add_argument("--seed", type=int, default=1, help="The random seed (default 1).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the catalog already has products."
        )
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Products per write batch (default 5000)."
        )
        parser.add_argument(
            "--stock",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Also receive demo stock for the new SKUs into warehouse MAIN through inventory's api "
            "(default; --no-stock for a catalog only, as in the 100k benchmark).",
        )

    def handle(self, *args, products, seed, if_empty, batch_size, stock, verbosity, **options):
        if products < 0:
            raise CommandError("--products must not be negative.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        totals: Counter = Counter()
        try:
            with transaction.atomic():
                if if_empty and Product.objects.exists():
                    self.stdout.write("The catalog already has products; --if-empty: nothing seeded.")
                    return
                offset = Product.objects.aggregate(highest=Max("pk"))["highest"] or 0
                category_ids = self._ensure_categories(totals)
                attributes = self._ensure_attributes(totals)
                writer = (
                    _CopyWriter(category_ids, attributes)
                    if connection.vendor == "postgresql"
                    else _BulkCreateWriter(category_ids, attributes)
                )
                writer.start()
                new_skus: list[str] = []
                for batch in _generate(seed, range(offset + 1, offset + products + 1), batch_size):
                    writer.write(batch, totals)
                    batch_skus = [variant.sku for item in batch for variant in item.variants]
                    if stock:
                        new_skus.extend(batch_skus)
                    else:  # with stock, their stock rows tell the inventory
                        inventory_api.register_skus(skus=batch_skus)
                    if verbosity >= 1:
                        self.stdout.write(
                            f"  {totals['products']:,}/{products:,} products "
                            f"({time.monotonic() - started:.1f} s)"
                        )
                writer.finish()
                # The new products cannot be in the cache (details are cached only for products
                # that exist), so the only stale entry can be the category tree; new categories
                # already dropped it through the services. Dropping it once more is cheap and
                # covers a tree read that raced the seed. cache.clear() is not used: on Redis it
                # would flush the whole database, which may hold more than the catalog's keys.
                cache.invalidate_on_commit(tree=True)
        except IntegrityError as exc:
            raise CommandError(
                f"The demo data clash with existing data; nothing was written. ({exc})"
            ) from exc
        if stock and new_skus:
            self._receive_stock(new_skus, verbosity)
        if verbosity >= 1:
            self.stdout.write(
                f"Seeded {totals['products']:,} products with {totals['variants']:,} variants, "
                f"{totals['prices']:,} prices and {totals['values']:,} attribute values; "
                f"{totals['categories']} categories and {totals['attributes']} attributes new; "
                f"in {time.monotonic() - started:.1f} s."
            )

    def _receive_stock(self, skus: list[str], verbosity: int) -> None:
        """
        Demo stock through inventory's api: 0-60 units per SKU, decided by the SKU alone (4 in 64,
        one in sixteen, is sold out). The catalog's ``in_stock`` flags are set here in bulk, so the
        receipt announces no ``StockChanged``: thousands of events would only keep a fresh
        worker busy confirming them, ahead of the first orders' hand-overs.
        """
        inventory_api.ensure_warehouse(code="MAIN", name="Main warehouse")
        quantities = {sku: max(0, zlib.crc32(sku.encode()) % 64 - 3) for sku in skus}
        for start in range(0, len(skus), 2000):
            chunk = {sku: quantities[sku] for sku in skus[start : start + 2000]}
            with transaction.atomic():
                inventory_api.receive_initial_stock(
                    warehouse="MAIN", quantities=chunk, reason="demo stock", announce=False
                )
        sold_out = [sku for sku, quantity in quantities.items() if quantity == 0]
        bulk.stock_flags_set_many(in_stock=False, skus=sold_out)
        if verbosity >= 1:
            self.stdout.write(f"Received demo stock for {len(skus):,} SKUs ({len(sold_out):,} sold out).")

    def _ensure_categories(self, totals: Counter) -> dict[str, int]:
        """The demo's categories by slug, created where missing (an existing slug is reused)."""
        by_slug = {category.slug: category for category in Category.objects.all()}
        for node, parent, position in demo.category_nodes():
            if node.slug not in by_slug:
                by_slug[node.slug] = services.category_create(
                    name=node.name,
                    slug=node.slug,
                    parent=by_slug[parent.slug] if parent else None,
                    position=position,
                )
                totals["categories"] += 1
        return {slug: category.pk for slug, category in by_slug.items()}

    def _ensure_attributes(self, totals: Counter) -> dict[str, tuple[int, str]]:
        """The demo's attributes by code as ``(id, kind)``, created where missing."""
        by_code = {attribute.code: attribute for attribute in Attribute.objects.all()}
        for spec in demo.ATTRIBUTES:
            attribute = by_code.get(spec.code)
            if attribute is None:
                by_code[spec.code] = services.attribute_save(
                    attribute=Attribute(code=spec.code, name=spec.name, kind=spec.kind, unit=spec.unit)
                )
                totals["attributes"] += 1
            elif attribute.kind != spec.kind:
                raise CommandError(
                    f"The attribute {spec.code!r} exists as {attribute.kind}; the demo needs {spec.kind}."
                )
        return {spec.code: (by_code[spec.code].pk, spec.kind) for spec in demo.ATTRIBUTES}


def _generate(seed: int, numbers: range, batch_size: int) -> Iterator[list[demo.DemoProduct]]:
    """
    The demo products ``numbers`` in batches, each generated in a thread while the caller writes
    the one before, so that on PostgreSQL the database works while Python generates. The thread
    only computes; it never touches the database.
    """
    chunks = [numbers[start : start + batch_size] for start in range(0, len(numbers), batch_size)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed_demo") as pool:
        pending = None
        for index, chunk in enumerate(chunks):
            if pending is None:
                pending = pool.submit(_generate_batch, seed, chunk)
            batch = pending.result()
            pending = (
                pool.submit(_generate_batch, seed, chunks[index + 1]) if index + 1 < len(chunks) else None
            )
            yield batch


def _generate_batch(seed: int, numbers: range) -> list[demo.DemoProduct]:
    return list(demo.products(seed, numbers, currency=settings.SHOP_CURRENCY))


class _Writer:
    """Writes batches of demo products with their variants, prices and attribute values."""

    def __init__(self, category_ids: dict[str, int], attributes: dict[str, tuple[int, str]]):
        self.category_ids = category_ids
        self.attributes = attributes
        self.now = timezone.now()

    def start(self) -> None:
        """Called once before the first batch."""

    def write(self, batch: Sequence[demo.DemoProduct], totals: Counter) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the last batch."""


class _BulkCreateWriter(_Writer):
    """The portable writer: ``bulk_create`` per table, ids read back from the inserts."""

    def write(self, batch: Sequence[demo.DemoProduct], totals: Counter) -> None:
        products = [
            Product(
                slug=item.slug,
                name=item.name,
                description=item.description,
                category_id=self.category_ids[item.category_slug],
                is_active=item.is_active,
                price_from=item.price_from,
                sku_text=item.sku_text,
            )
            for item in batch
        ]
        _bulk_create(Product, products, "slug")
        variants = [
            Variant(
                product_id=product.pk,
                sku=variant.sku,
                name=variant.name,
                position=position,
                is_active=variant.is_active,
            )
            for product, item in zip(products, batch, strict=True)
            for position, variant in enumerate(item.variants)
        ]
        _bulk_create(Variant, variants, "sku")
        prices = [
            Price(variant_id=row.pk, currency=currency, amount=amount)
            for row, variant in zip(variants, (v for item in batch for v in item.variants), strict=True)
            for currency, amount in variant.prices
        ]
        Price.objects.bulk_create(prices, batch_size=2000)
        values = []
        for product, item in zip(products, batch, strict=True):
            for code, value in item.attributes:
                attribute_id, kind = self.attributes[code]
                text, integer, decimal, boolean = _value_columns(kind, value)
                values.append(
                    AttributeValue(
                        product_id=product.pk,
                        attribute_id=attribute_id,
                        value_text=text,
                        value_integer=integer,
                        value_decimal=decimal,
                        value_boolean=boolean,
                    )
                )
        AttributeValue.objects.bulk_create(values, batch_size=2000)
        totals.update(products=len(products), variants=len(variants), prices=len(prices), values=len(values))


def _bulk_create(model: type[Model], objs: list[Model], key: str) -> None:
    """``bulk_create`` ``objs`` and make sure they have their ids (read back by ``key`` if needed)."""
    model.objects.bulk_create(objs, batch_size=2000)
    if objs and objs[0].pk is None:  # a database that cannot return ids from a bulk insert
        ids = dict(
            model.objects.filter(**{f"{key}__in": [getattr(obj, key) for obj in objs]}).values_list(key, "pk")
        )
        for obj in objs:
            obj.pk = ids[getattr(obj, key)]


class _CopyWriter(_Writer):
    """
    The PostgreSQL writer: COPY per table, about twice as fast as ``bulk_create`` (what remains
    is the database's own work: the search trigger, the indexes, the foreign-key checks). Product
    and variant ids are taken from their sequences up front (the rows that refer to them need
    them, and COPY returns nothing), which is as safe with concurrent writers as a plain insert.
    """

    def start(self) -> None:
        # Django's foreign keys are deferred to the commit, where a million checks would run
        # one after the other while the client waits. Checked at the end of each COPY instead,
        # they overlap with the generation of the next batch (Django's check_constraints()
        # switches them the same way).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.sequences = {}
            for model in (Product, Variant):
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
                )
                self.sequences[model] = cursor.fetchone()[0]

    def finish(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            # Fresh statistics, so that the first queries on the new rows are planned for their
            # real number rather than for empty tables (autovacuum would catch up only later).
            for model in (Product, Variant, Price, AttributeValue):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def write(self, batch: Sequence[demo.DemoProduct], totals: Counter) -> None:
        # The rows are built while COPY streams them, so the database works on the first rows
        # while Python builds the next ones.
        now = self.now
        products = list(zip(self._reserve_ids(Product, len(batch)), batch, strict=True))
        variant_ids = self._reserve_ids(Variant, sum(len(item.variants) for item in batch))
        totals["products"] += self._copy(
            Product,
            PRODUCT_COLUMNS,
            (
                (
                    product_id,
                    item.slug,
                    item.name,
                    item.description,
                    self.category_ids[item.category_slug],
                    item.is_active,
                    item.price_from,
                    True,
                    item.sku_text,
                    now,
                    now,
                )
                for product_id, item in products
            ),
        )
        totals["variants"] += self._copy(
            Variant,
            VARIANT_COLUMNS,
            (
                (variant_id, product_id, variant.sku, variant.name, position, variant.is_active, True)
                for variant_id, product_id, position, variant in _variants(products, variant_ids)
            ),
        )
        totals["prices"] += self._copy(
            Price,
            PRICE_COLUMNS,
            (
                (variant_id, currency, amount, now)
                for variant_id, _, _, variant in _variants(products, variant_ids)
                for currency, amount in variant.prices
            ),
        )
        totals["values"] += self._copy(
            AttributeValue,
            VALUE_COLUMNS,
            (
                (product_id, *self._attribute_columns(code, value))
                for product_id, item in products
                for code, value in item.attributes
            ),
        )

    def _attribute_columns(self, code: str, value) -> tuple:
        attribute_id, kind = self.attributes[code]
        return (attribute_id, *_value_columns(kind, value))

    def _reserve_ids(self, model: type[Model], count: int) -> list[int]:
        if not count:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self.sequences[model], count]
            )
            return sorted(row[0] for row in cursor.fetchall())

    @staticmethod
    def _copy(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        """COPY ``rows`` into ``model``'s table; the number of rows."""
        quote = connection.ops.quote_name
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        # Django's cursor wrapper does not wrap copy(): the error wrapper turns psycopg's
        # errors (a unique violation) into Django's, as for any other query.
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            count = 0
            for row in rows:
                copy.write_row(row)
                count += 1
        return count


def _variants(products: list[tuple[int, demo.DemoProduct]], variant_ids: list[int]) -> Iterator[tuple]:
    """``(variant id, product id, position, variant)`` of ``products``' variants, ids in order."""
    ids = iter(variant_ids)
    for product_id, item in products:
        for position, variant in enumerate(item.variants):
            yield next(ids), product_id, position, variant
