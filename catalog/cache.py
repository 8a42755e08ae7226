"""
The catalog's read cache: product detail and the category tree.

Entries are dropped on commit of every write that changes them (``invalidate_on_commit``), so a
reader never sees an entry older than the writing request's response. With Redis down the cache
fails open (django-redis ignores the error) and reads go to the database. The remaining window
(a reader that read the database before the commit and stores after it) is bounded by
``CATALOG_CACHE_SECONDS``.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

_PRODUCT_KEY = "catalog:product:v1:{slug}"
_TREE_KEY = "catalog:categories:v1"


def product_key(slug: str) -> str:
    return _PRODUCT_KEY.format(slug=slug)


def get_product(slug: str) -> dict | None:
    return cache.get(product_key(slug))


def set_product(slug: str, data: dict) -> None:
    cache.set(product_key(slug), data, settings.CATALOG_CACHE_SECONDS)


def get_tree() -> list[dict] | None:
    return cache.get(_TREE_KEY)


def set_tree(tree: list[dict]) -> None:
    cache.set(_TREE_KEY, tree, settings.CATALOG_CACHE_SECONDS)


def invalidate_on_commit(*, product_slugs: Iterable[str] = (), tree: bool = False) -> None:
    """Drop the entries of ``product_slugs`` (and the tree) once the current transaction commits."""
    keys = [product_key(slug) for slug in set(product_slugs) if slug]
    if tree:
        keys.append(_TREE_KEY)
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))
