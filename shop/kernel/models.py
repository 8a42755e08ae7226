"""The outbox and the inbox: what makes events reliable across the broker."""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class OutboxMessage(models.Model):
    """
    An event written in the transaction of the change it announces, waiting to be relayed.

    ``sent_at`` says the broker took it; ``handled_at`` says every subscriber recorded it in the
    inbox. Between the two the reconciliation (``shop.kernel.outbox.redeliver``) looks again at
    ``check_at`` and sends the event anew to the subscribers that have no inbox row yet, so that
    a message lost by the broker (Redis restarted empty, a worker killed mid-handler) delays the
    follow-up by minutes, never loses it.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField()
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    handled_at = models.DateTimeField(null=True, blank=True, help_text="Every subscriber has handled it.")
    check_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reconciliation looks for subscribers that missed it."
    )
    redeliveries = models.PositiveIntegerField(default=0, help_text="Sent again by the reconciliation.")
    request_id = models.CharField(
        max_length=128,
        blank=True,
        default="",
        help_text="The request (or the task of a request) that published it: its subscribers' tasks log it.",
    )
    trace_context = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The W3C traceparent of the span that published it: its subscribers continue that trace.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="outbox_unsent_idx", condition=models.Q(sent_at__isnull=True)),
            models.Index(fields=["sent_at"], name="outbox_sent_at_idx"),
            models.Index(
                fields=["check_at"],
                name="outbox_unhandled_idx",
                condition=models.Q(sent_at__isnull=False, handled_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.event_type} v{self.version} {self.event_id}"

    def envelope(self) -> dict:
        """Return the JSON message handed to subscribers."""
        return {
            "id": str(self.event_id),
            "type": self.event_type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "payload": self.payload,
        }


class ProcessedEvent(models.Model):
    """The inbox: one row per (event, consumer) handled, so that redelivery changes nothing."""

    event_id = models.UUIDField()
    consumer = models.CharField(max_length=200)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "consumer"], name="inbox_event_consumer_uniq"),
        ]

    def __str__(self):
        return f"{self.consumer} {self.event_id}"


class QueueHeartbeat(models.Model):
    """
    The newest heartbeat a worker consumed from a queue (``shop.kernel.heartbeats``): when beat
    sent it, when a worker ran it, and which worker.
    """

    queue = models.CharField(max_length=200, primary_key=True)
    sent_at = models.DateTimeField()
    consumed_at = models.DateTimeField()
    worker = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return f"{self.queue} consumed {self.consumed_at:%Y-%m-%d %H:%M:%S}"


class FunnelSnapshot(models.Model):
    """
    The checkout funnel's counters at one moment (``shop.kernel.funnel``), taken by beat every
    ``FUNNEL_SNAPSHOT_SECONDS``, so that the operations page can say what happened in the last
    hour without a Prometheus. ``source`` names the metrics folder read (host and path): only
    snapshots of the folder the page reads are compared with it.
    """

    taken_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=500)
    totals = models.JSONField(help_text='{"step|outcome": count}: the cumulative counters then.')

    def __str__(self):
        return f"funnel at {self.taken_at:%Y-%m-%d %H:%M:%S}"
