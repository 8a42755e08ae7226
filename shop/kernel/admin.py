"""
The outbox, the inbox and the queue heartbeats in the admin: read-only, to see what waits for the
broker and why, and when each queue was last consumed.
"""

from django.contrib import admin

from shop.kernel.models import OutboxMessage, ProcessedEvent, QueueHeartbeat
from shop.kernel.readonly_admin import ReadOnlyAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "event_type", "version", "occurred_at", "sent_at", "attempts", "last_error")
    list_filter = ("event_type", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("event_id",)
    show_full_result_count = False


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "consumer", "processed_at")
    list_filter = ("consumer",)
    search_fields = ("event_id",)
    show_full_result_count = False


@admin.register(QueueHeartbeat)
class QueueHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("queue", "consumed_at", "sent_at", "worker")
