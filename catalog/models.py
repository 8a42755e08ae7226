"""The catalog's data. Private: other contexts use ``catalog.api`` and ``catalog.data``."""

from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from shop.kernel.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    clean_amount,
    currency_choices,
    validate_currency_code,
)
from shop.kernel.sku import SKU_MAX_LENGTH, SKU_VALIDATOR


class Category(models.Model):
    """A node of the category tree; ``path`` ("/root/child/") makes sub-tree reads one query."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1000, unique=True, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]

    def __str__(self):
        return self.name

    def clean(self):
        ancestor = self.parent
        while ancestor is not None:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": "A category cannot be its own ancestor."})
            ancestor = ancestor.parent

    def build_path(self) -> str:
        return f"{self.parent.path if self.parent else '/'}{self.slug}/"


class Product(models.Model):
    """
    A product as the storefront shows it. ``price_from``, ``in_stock`` and ``sku_text`` are read
    models kept by the services (and, later, inventory's events), so that the list and search
    need no joins or aggregates.
    """

    slug = models.SlugField(max_length=200, unique=True)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True)
    price_from = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, null=True, editable=False
    )
    in_stock = models.BooleanField(default=True, editable=False)
    sku_text = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["name", "id"], name="product_name_idx"),
            models.Index(fields=["price_from", "id"], name="product_price_idx"),
            models.Index(fields=["created_at", "id"], name="product_created_idx"),
            models.Index(fields=["category", "id"], name="product_category_idx"),
        ]
        # The GIN index on search_vector and the trigger that keeps it current are created by a
        # PostgreSQL-only migration (0002); SQLite searches with a simple fallback.

    def __str__(self):
        return self.name


class Variant(models.Model):
    """A sellable variant of a product, identified across the shop by its SKU."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True, validators=[SKU_VALIDATOR])
    name = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    in_stock = models.BooleanField(default=True, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Price(models.Model):
    """
    The price of a variant in a currency: one per variant and currency. Price lists (customer
    groups, campaigns) would add a nullable ``price_list`` to the unique key. The amount column
    has four decimal places (ISO 4217's most); ``clean`` refuses more places than the currency has.
    """

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3, choices=currency_choices, validators=[validate_currency_code])
    amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0"))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "currency"], name="price_variant_currency_uniq"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_amount_non_negative"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"

    def clean(self):
        clean_amount(self)


class Attribute(models.Model):
    """A typed product attribute such as colour (text) or weight in grams (integer)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        INTEGER = "integer", "Integer"
        DECIMAL = "decimal", "Decimal"
        BOOLEAN = "boolean", "Yes/no"

    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    unit = models.CharField(max_length=20, blank=True)

    def __str__(self):
        return self.name


class AttributeValue(models.Model):
    """The value of one attribute for one product, in the column of the attribute's kind."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="attribute_values")
    attribute = models.ForeignKey(Attribute, on_delete=models.PROTECT, related_name="values")
    value_text = models.CharField(max_length=500, blank=True)
    value_integer = models.BigIntegerField(null=True, blank=True)
    value_decimal = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    value_boolean = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "attribute"], name="attribute_value_uniq"),
        ]

    def __str__(self):
        return f"{self.attribute_id}={self.value}"

    @property
    def value(self):
        kind = self.attribute.kind
        if kind == Attribute.Kind.INTEGER:
            return self.value_integer
        if kind == Attribute.Kind.DECIMAL:
            return self.value_decimal
        if kind == Attribute.Kind.BOOLEAN:
            return self.value_boolean
        return self.value_text

    def clean(self):
        if self.attribute_id is None:
            return
        columns = {
            Attribute.Kind.TEXT: "value_text",
            Attribute.Kind.INTEGER: "value_integer",
            Attribute.Kind.DECIMAL: "value_decimal",
            Attribute.Kind.BOOLEAN: "value_boolean",
        }
        expected = columns[self.attribute.kind]
        empty = {"value_text": "", "value_integer": None, "value_decimal": None, "value_boolean": None}
        if getattr(self, expected) in (None, ""):
            raise ValidationError({expected: f"A value is required for a {self.attribute.kind} attribute."})
        for column, blank in empty.items():
            if column != expected and getattr(self, column) not in (blank, None):
                raise ValidationError({column: f"{self.attribute.name} takes a {self.attribute.kind} value."})
