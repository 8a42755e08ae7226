"""Checkout sessions, shipping methods, orders and idempotency records. Private to checkout."""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from checkout.countries import shipping_country_choices
from shop.kernel.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    clean_amount,
    currency_choices,
    validate_currency_code,
)


def _money_field(**options) -> models.DecimalField:
    """A money column: four decimal places, ISO 4217's most, so that no amount is rounded."""
    return models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **options)


class ShippingMethod(models.Model):
    """A way to ship (standard, express); its prices per country are ``ShippingRate`` rows."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self):
        return self.name


class ShippingRate(models.Model):
    """
    The price of a method for a country; country ``*`` is the price for every other country.
    Countries are ISO 3166-1 alpha-2 codes and currencies ISO 4217 codes (choices: any other
    value is refused by ``full_clean``, hence by the admin), and an amount has no more decimal
    places than its currency.
    """

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    country = models.CharField(
        max_length=2, choices=shipping_country_choices, help_text="ISO 3166-1 alpha-2, or * for all others."
    )
    amount = _money_field()
    currency = models.CharField(max_length=3, choices=currency_choices, validators=[validate_currency_code])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["method", "country", "currency"], name="shipping_rate_uniq"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="shipping_rate_non_negative"),
        ]

    def __str__(self):
        return f"{self.method_id} {self.country} {self.amount} {self.currency}"

    def clean(self):
        clean_amount(self)


class Checkout(models.Model):
    """A cart on its way to an order; its stock is reserved until ``expires_at``."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETING = "completing", "Completing (payment running)"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cart_token = models.UUIDField(db_index=True)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    lines = models.JSONField(help_text="[{sku, quantity}] as reserved; prices are read at display time.")
    email = models.EmailField(blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    shipping_method = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    order_number = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at"], name="checkout_updated_idx")]  # retention

    def __str__(self):
        return str(self.id)


class Order(models.Model):
    """An order: what was bought, at which prices, and where it is in its life."""

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        HANDED_OVER = "handed_over", "Handed over to fulfilment"
        SHIPPED = "shipped", "Shipped"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"

    number = models.CharField(max_length=20, unique=True)
    checkout_id = models.UUIDField(unique=True, help_text="One order per checkout, whatever the retries.")
    customer_id = models.BigIntegerField(null=True, blank=True)
    access_token_digest = models.CharField(max_length=64)
    email = models.EmailField()
    shipping_address = models.JSONField()
    shipping_method = models.CharField(max_length=50)
    currency = models.CharField(max_length=3)
    subtotal = _money_field()
    shipping_cost = _money_field()
    total = _money_field()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLACED)
    payment_reference = models.CharField(max_length=100, blank=True)
    erp_reference = models.CharField(max_length=100, blank=True)
    handover_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Fulfilment took the order (its hand-over to the ERP began): it can no longer be canceled.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer_id", "-created_at", "-id"], name="order_customer_recent_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    """A line copied at the time of purchase: SKU, name and price as they were then."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = _money_field()
    line_total = _money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"


class IdempotencyRecord(models.Model):
    """
    One ``Idempotency-Key`` of a scope (a customer or a checkout): the request's fingerprint and,
    once finished, the response to replay. Kept at least ``IDEMPOTENCY_KEY_HOURS``.
    """

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_uniq")]

    def __str__(self):
        return f"{self.scope} {self.key}"
