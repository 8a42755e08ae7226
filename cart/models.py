"""The cart's data. Private: other contexts use ``cart.api`` and ``cart.data``."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

#: The largest quantity of one SKU in a cart (the HTTP contract: an integer in 1..100).
MAX_QUANTITY = 100


class Cart(models.Model):
    """
    A cart, anonymous or a customer's. ``token`` is its public id and its only secret: a UUID4,
    unguessable, so that holding the token is what gives access to an anonymous cart. Prices are
    never stored here: a cart always shows the catalog's current prices.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A customer is known by id only (no foreign key across contexts). The partial unique
    # constraint below is also the index that finds a customer's cart.
    customer_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id"],
                condition=Q(customer_id__isnull=False),
                name="cart_one_per_customer",
            ),
        ]
        indexes = [
            # The retention job's read: anonymous carts by last use.
            models.Index(
                fields=["updated_at"],
                condition=Q(customer_id__isnull=True),
                name="cart_anonymous_updated_idx",
            ),
        ]

    def __str__(self):
        owner = f"customer {self.customer_id}" if self.customer_id is not None else "anonymous"
        return f"cart {self.token} ({owner})"


class CartLine(models.Model):
    """A SKU and its quantity in a cart; at most one line per SKU."""

    # The unique (cart, sku) index starts with cart_id, so the foreign key needs no index of its own.
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines", db_index=False)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_cart_sku_uniq"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_QUANTITY),
                name="cart_line_quantity_range",
            ),
        ]
        ordering = ["id"]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"
