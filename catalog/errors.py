"""
What the catalog refuses, one exception per fact: raised where the fact is detected, let
through ``catalog.api`` to other contexts, answered over HTTP by each context's
``rest_api/problems.py``.
"""

from shop.kernel.sku import UnknownSku

__all__ = ["NotForSale", "UnknownSku"]


class NotForSale(Exception):
    """
    The catalog has this SKU but does not sell it now: the variant or its product is inactive,
    or it has no price in the currency. (A SKU that no variant has is an ``UnknownSku``.)
    """

    def __init__(self, sku: str):
        super().__init__(f"The catalog does not sell {sku!r}.")
        self.sku = sku
