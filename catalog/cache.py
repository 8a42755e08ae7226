"""
The catalog's read cache: rendered product pages and product lists, and the category tree.

Entries are dropped on commit of every write that changes them (``invalidate_on_commit``), so a
reader never sees an entry older than the writing request's response:

- a product page (``catalog:product:v2:<slug>``) is deleted by key;
- product lists (every filter, search, ordering and page) are many keys that no write can name,
  so each entry carries the **generation** of the catalog it was read from, and every write bumps
  the generation on commit. A reader fetches the generation and the entry in one round trip
  (``get_many``) and takes the entry only if the generations match. The generation is read
  *before* the database, so a write that commits while a list is being read leaves that list
  under the old generation, never served. If the generation key is evicted it comes back as a new
  random number, which matches no stored entry.

With Redis down the cache fails open (django-redis ignores the error) and reads go to the
database. The remaining window of a product page (a reader that read the database before the
commit and stores after it) is bounded by ``CATALOG_CACHE_SECONDS``.
"""

import hashlib
import secrets
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from shop.kernel.http.conditional import RenderedJSON

_PRODUCT_KEY = "catalog:product:v2:{slug}"
_LIST_KEY = "catalog:list:v1:{digest}"
_GENERATION_KEY = "catalog:generation:v1"
_TREE_KEY = "catalog:categories:v1"


def product_key(slug: str) -> str:
    return _PRODUCT_KEY.format(slug=slug)


def get_product(slug: str, *, prefetched: Mapping | None = None) -> RenderedJSON | None:
    """
    The rendered page of the product ``slug``, if cached; from ``prefetched`` (what the request's
    throttle fetched with its count, ``product_keys``) when it was fetched there.
    """
    key = product_key(slug)
    if prefetched is not None:
        return prefetched.get(key)
    return cache.get(key)


def product_keys(slug: str) -> list[str]:
    """What ``get_product`` reads, for the throttle to fetch with its count."""
    return [product_key(slug)]


def set_product(slug: str, rendered: RenderedJSON) -> None:
    cache.set(product_key(slug), rendered, settings.CATALOG_CACHE_SECONDS)


def list_key(url: str) -> str:
    """The key of a list read by its URL (as sent: another spelling of the query is another key)."""
    return _LIST_KEY.format(digest=hashlib.blake2b(url.encode(), digest_size=16).hexdigest())


def list_keys(url: str) -> list[str]:
    """What ``get_list`` reads, for the throttle to fetch with its count."""
    return [_GENERATION_KEY, list_key(url)]


def get_list(url: str, *, prefetched: Mapping | None = None) -> tuple[RenderedJSON | None, int]:
    """
    The cached list at ``url`` if it was read from the current generation, and that generation
    (to store a fresh read under). One round trip, or none with ``prefetched`` (``list_keys``).
    """
    key = list_key(url)
    found = prefetched if prefetched is not None else cache.get_many([_GENERATION_KEY, key])
    generation = found.get(_GENERATION_KEY)
    if generation is None:
        generation = secrets.randbits(62)
        if not cache.add(_GENERATION_KEY, generation, None):
            generation = cache.get(_GENERATION_KEY, generation)
        return None, generation
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def cached_list(url: str, found: Mapping) -> RenderedJSON | None:
    """
    The list at ``url`` from ``found`` (what ``list_keys`` fetched) if it is of the current
    generation; None otherwise, without writing (``get_list`` starts a missing generation).
    """
    generation = found.get(_GENERATION_KEY)
    entry = found.get(list_key(url))
    if generation is not None and entry is not None and entry[0] == generation:
        return entry[1]
    return None


def set_list(url: str, rendered: RenderedJSON, generation: int) -> None:
    cache.set(list_key(url), (generation, rendered), settings.CATALOG_CACHE_SECONDS)


def get_tree() -> list[dict] | None:
    return cache.get(_TREE_KEY)


def set_tree(tree: list[dict]) -> None:
    cache.set(_TREE_KEY, tree, settings.CATALOG_CACHE_SECONDS)


def _bump_generation() -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # evicted (or never set): a new random generation matches no entry
        cache.set(_GENERATION_KEY, secrets.randbits(62), None)


def invalidate_on_commit(*, product_slugs: Iterable[str] = (), tree: bool = False) -> None:
    """
    Once the current transaction commits, drop the pages of ``product_slugs`` (and the tree) and
    start a new generation of lists (every write may change a list: a name, a price, a flag).
    """
    keys = [product_key(slug) for slug in set(product_slugs) if slug]
    if tree:
        keys.append(_TREE_KEY)

    def drop() -> None:
        if keys:
            cache.delete_many(keys)
        _bump_generation()

    transaction.on_commit(drop)
