"""
The inventory's data. Private: other contexts use ``inventory.api`` and ``inventory.data``.

The inventory knows SKUs, never products: a SKU is a plain string here, with no foreign key to
the catalog. Every change of ``StockLevel.on_hand`` or ``StockLevel.reserved`` writes a
``StockMovement`` in the same transaction, so the ledger replays to the current levels.
"""

import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from shop.kernel.sku import SKU_MAX_LENGTH, SKU_VALIDATOR

#: The largest quantity a stock row can hold (PostgreSQL's bigint).
MAX_QUANTITY = 2**63 - 1
REFERENCE_MAX_LENGTH = 100


class KnownSku(models.Model):
    """
    A SKU the shop sells, registered by the catalog when it creates a variant, before any stock
    of it is held: the staff endpoint answers 404 for a SKU that has neither a row here nor a
    stock row. Never deleted (the ledger may name the SKU).
    """

    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True, validators=[SKU_VALIDATOR])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["sku"]
        verbose_name = "known SKU"

    def __str__(self):
        return self.sku


class Warehouse(models.Model):
    """
    A place that holds stock. Reservations take stock from active warehouses in ``priority``
    order (lower first); an inactive warehouse keeps its stock but sells none of it. Warehouses
    are deactivated, never deleted: the ledger refers to them.
    """

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    priority = models.IntegerField(default=0, help_text="Lower is used first.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self):
        return f"{self.code} ({self.name})"


class StockLevel(models.Model):
    """
    How much of a SKU a warehouse has (``on_hand``) and how much of that is promised to
    reservations (``reserved``, the sum of the reservation lines on this row, expired or not).
    The row is the unit of locking: its lock also guards the reservation lines on it.
    """

    sku = models.CharField(max_length=SKU_MAX_LENGTH, validators=[SKU_VALIDATOR])
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    reserved = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["sku", "warehouse"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stocklevel_sku_warehouse_uniq"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_non_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_non_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_within_on_hand"
            ),
        ]

    def __str__(self):
        return f"{self.sku} @ {self.warehouse_id}: {self.on_hand} on hand, {self.reserved} reserved"


class Reservation(models.Model):
    """
    Stock held for a while under a caller's ``reference`` (e.g. a checkout id). Once
    ``expires_at`` has passed it holds stock for nobody, whether or not it was cleaned up yet.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["expires_at"]

    def __str__(self):
        return f"{self.reference} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class ReservationLine(models.Model):
    """A quantity of a SKU held in one warehouse for a reservation."""

    # DO_NOTHING: lines are deleted explicitly, each under the lock of its stock row, before their
    # reservation; a cascade from Django would delete lines outside that lock. The database's
    # foreign key still refuses a reservation deleted with lines left.
    reservation = models.ForeignKey(Reservation, on_delete=models.DO_NOTHING, related_name="lines")
    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["sku", "warehouse"], name="reservationline_stock_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservationline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku} @ {self.warehouse_id}"


class StockMovement(models.Model):
    """
    The ledger: one row per change of a stock row, never updated or deleted. Summing the deltas
    per SKU and warehouse gives ``on_hand`` and ``reserved``.

    ``reference`` says why: the reservation's reference (reservation, release), the order number
    (allocation, return) or the reason (receipt, adjustment). ``reservation_id`` ties reservation,
    release and allocation rows to the reservation they concern, which outlives its deletion here.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        ADJUSTMENT = "adjustment", "Adjustment"
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        ALLOCATION = "allocation", "Allocation"
        RETURN = "return", "Return"

    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    on_hand_delta = models.BigIntegerField(default=0)
    reserved_delta = models.BigIntegerField(default=0)
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH)
    reservation_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["reference", "kind"], name="stockmovement_reference_idx"),
            models.Index(fields=["sku", "warehouse"], name="stockmovement_stock_idx"),
            models.Index(fields=["reservation_id"], name="stockmovement_reservation_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(on_hand_delta=0, reserved_delta=0), name="stockmovement_changes_something"
            ),
        ]

    def __str__(self):
        return (
            f"{self.kind} {self.sku} @ {self.warehouse_id}: "
            f"on hand {self.on_hand_delta:+d}, reserved {self.reserved_delta:+d} ({self.reference})"
        )
