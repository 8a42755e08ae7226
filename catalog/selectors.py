"""The catalog's reads: category tree, product list with search and filters, product detail."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast

from catalog import cache
from catalog.models import AttributeValue, Category, Price, Product, Variant
from shop.kernel.db import as_decimal, fetch, placeholders
from shop.kernel.http.pagination import Ordering

ORDERINGS = {
    "price": Ordering(("price_from", "id")),
    "-price": Ordering(("price_from", "id"), descending=True),
    "name": Ordering(("name", "id")),
    "-created": Ordering(("created_at", "id"), descending=True),
}
DEFAULT_ORDERING = "name"
RELEVANCE = Ordering(("rank", "id"), descending=True)


def category_tree() -> list[dict]:
    """Every category as ``{id, slug, name, parent, path}``, sorted by path; cached."""
    tree = cache.get_tree()
    if tree is None:
        tree = list(
            Category.objects.order_by("path").values(
                "id", "slug", "name", "path", parent_slug=F("parent__slug")
            )
        )
        tree = [{**row, "parent": row.pop("parent_slug")} for row in tree]
        cache.set_tree(tree)
    return tree


def category_subtree_ids(slug: str) -> list[int] | None:
    """Ids of the category ``slug`` and its descendants; None for an unknown slug."""
    tree = category_tree()
    node = next((row for row in tree if row["slug"] == slug), None)
    if node is None:
        return None
    return [row["id"] for row in tree if row["path"].startswith(node["path"])]


@dataclass(frozen=True)
class ProductFilter:
    search: str = ""
    category_ids: list[int] | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool | None = None
    ordering: str | None = None


def product_list(flt: ProductFilter) -> tuple[QuerySet, Ordering]:
    """The listable products matching ``flt`` and the ordering to paginate them by."""
    queryset = (
        Product.objects.filter(is_active=True, price_from__isnull=False)
        .select_related("category")
        .only("id", "slug", "name", "price_from", "in_stock", "created_at", "category__slug")
    )
    if flt.category_ids is not None:
        queryset = queryset.filter(category_id__in=flt.category_ids)
    if flt.price_min is not None:
        queryset = queryset.filter(price_from__gte=flt.price_min)
    if flt.price_max is not None:
        queryset = queryset.filter(price_from__lte=flt.price_max)
    if flt.in_stock is not None:
        queryset = queryset.filter(in_stock=flt.in_stock)
    if flt.search:
        queryset = search(queryset, flt.search)
        ordering = ORDERINGS[flt.ordering] if flt.ordering else RELEVANCE
    else:
        ordering = ORDERINGS[flt.ordering or DEFAULT_ORDERING]
    return queryset, ordering


def search(queryset: QuerySet, text: str) -> QuerySet:
    """
    Filter ``queryset`` by ``text`` and annotate a ``rank`` (higher is better).

    PostgreSQL: full text over the weighted ``search_vector`` (name A, SKUs B, description C),
    English stemming and a plain-token match so that SKUs are found as typed. Elsewhere: every
    word must occur in the name, SKUs or description; a name match ranks above a SKU match
    above a description match.
    """
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english") | SearchQuery(
            text, search_type="websearch", config="simple"
        )
        # ts_rank() is a real; as double precision it survives the cursor's round trip exactly.
        return queryset.filter(search_vector=query).annotate(
            rank=Cast(SearchRank(F("search_vector"), query), FloatField())
        )
    rank = Value(0.0, output_field=FloatField())
    for word in text.split()[:10]:
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(sku_text__icontains=word) | Q(description__icontains=word)
        )
        rank = rank + Case(
            When(name__icontains=word, then=Value(1.0)),
            When(sku_text__icontains=word, then=Value(0.4)),
            default=Value(0.2),
            output_field=FloatField(),
        )
    return queryset.annotate(rank=rank)


def product_detail(slug: str) -> dict | None:
    """The product page's data (active products only), or None (its HTTP view caches it rendered)."""
    product = (
        Product.objects.filter(slug=slug, is_active=True)
        .select_related("category")
        .only("id", "slug", "name", "description", "category__slug")
        .first()
    )
    if product is None:
        return None
    currency = settings.SHOP_CURRENCY
    price = Price.objects.filter(variant=OuterRef("pk"), currency=currency).values("amount")[:1]
    variants = (
        Variant.objects.filter(product=product, is_active=True)
        .annotate(amount=Subquery(price))
        .order_by("position", "id")
        .values("sku", "name", "in_stock", "amount")
    )
    values = (
        AttributeValue.objects.filter(product=product).select_related("attribute").order_by("attribute__code")
    )
    data = {
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "category": product.category.slug,
        "attributes": {value.attribute.code: _json_value(value.value) for value in values},
        "variants": [
            {
                "sku": row["sku"],
                "name": row["name"],
                "price": None if row["amount"] is None else {"amount": row["amount"], "currency": currency},
                "in_stock": row["in_stock"],
            }
            for row in variants
        ],
    }
    return data


def _json_value(value):
    return str(value) if isinstance(value, Decimal) else value


def variants_by_sku(skus: list[str], currency: str) -> list[dict]:
    """
    Variant rows with their product and their price in ``currency`` (one query). Written in SQL:
    it prices every cart and checkout, and the ORM's building of it cost more than running it.
    """
    if not skus:
        return []
    # S608: the tables' names are the models', every value is a parameter.
    rows = fetch(
        f"""
        SELECT v.sku, v.name, v.is_active, price.amount, p.slug, p.name, p.is_active
        FROM {Variant._meta.db_table} v
        JOIN {Product._meta.db_table} p ON p.id = v.product_id
        LEFT JOIN {Price._meta.db_table} price ON price.variant_id = v.id AND price.currency = %s
        WHERE v.sku IN ({placeholders(len(skus))})
        """,  # noqa: S608
        [currency, *skus],
    )
    return [
        {
            "sku": sku,
            "name": name,
            "is_active": bool(active),
            "amount": as_decimal(amount),
            "product_slug": slug,
            "product_name": product_name,
            "product_active": bool(product_active),
        }
        for sku, name, active, amount, slug, product_name, product_active in rows
    ]


def variant_by_sku(sku: str) -> Variant | None:
    """The variant with ``sku`` and its product, or None."""
    return Variant.objects.select_related("product").filter(sku=sku).first()


def sellable_variants_after(after_id: int, currency: str, limit: int) -> list[dict]:
    """
    Up to ``limit`` sellable variants (active, of an active product, priced in ``currency``)
    with an id above ``after_id``, by id: one keyset page of a feed, one query. It is read from
    the prices, so that the page is a range of the (variant, currency) unique index, not a scan
    of the prices from the first variant on.
    """
    return list(
        Price.objects.filter(
            variant_id__gt=after_id,
            currency=currency,
            variant__is_active=True,
            variant__product__is_active=True,
        )
        .order_by("variant_id")
        .values(
            "amount",
            variant_key=F("variant_id"),
            sku=F("variant__sku"),
            name=F("variant__name"),
            in_stock=F("variant__in_stock"),
            product_slug=F("variant__product__slug"),
            product_name=F("variant__product__name"),
        )[:limit]
    )
