"""The integrations' records: hand-overs to the ERP, import jobs, export jobs. Private."""

import uuid

from django.db import models
from django.db.models import Q


class ErpHandover(models.Model):
    """One order's delivery to the ERP: retried with backoff, dead-lettered (``failed``) after the cap."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_FLIGHT = "in_flight", "In flight"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (dead letter)"
        CANCELED = "canceled", "Canceled (the order was canceled first; never sent)"

    order_number = models.CharField(max_length=20, unique=True)
    payload = models.JSONField(help_text="The order as the ERP receives it.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    erp_reference = models.CharField(max_length=100, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When the running attempt started.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="handover_status_due_idx"),
            models.Index(fields=["-created_at", "-id"], name="handover_recent_idx"),
        ]

    def __str__(self):
        return f"{self.order_number} {self.status}"


class ImportJob(models.Model):
    """A file imported by a worker: prices, products (PIM) or stock levels (ERP)."""

    class Kind(models.TextChoices):
        PRICES = "prices", "Prices"
        PRODUCTS = "products", "Products (PIM)"
        STOCK = "stock", "Stock levels (ERP)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="imports/%Y/%m/%d/")
    original_name = models.CharField(max_length=255, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_applied = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{row, message}], the first 1,000.")
    failure = models.TextField(blank=True, help_text="Why the whole job failed, if it did.")
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the broker (services.dispatch)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "-created_at"], name="importjob_kind_recent_idx")]

    def __str__(self):
        return f"{self.kind} import {self.id} {self.status}"


class ExportJob(models.Model):
    """A product feed built by a worker on the ``exports`` queue and stored as a file."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    format = models.CharField(max_length=10, default="csv")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="exports/%Y/%m/%d/", blank=True)
    rows = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the broker (services.dispatch)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(format="csv"), name="exportjob_format_csv")]

    def __str__(self):
        return f"export {self.id} {self.status}"
