"""ERP hand-overs in the admin: read-only (workers write them), filtered by status, with a retry action."""

from django.contrib import admin, messages

from integrations import errors
from integrations.models import ErpHandover
from integrations.services import erp as erp_services


@admin.register(ErpHandover)
class ErpHandoverAdmin(admin.ModelAdmin):
    list_display = ["order_number", "status", "attempts", "erp_reference", "next_attempt_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["order_number", "erp_reference"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["retry"]
    readonly_fields = [field.name for field in ErpHandover._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry the selected failed hand-overs")
    def retry(self, request, queryset):
        retried, skipped = 0, []
        for number in queryset.values_list("order_number", flat=True):
            try:
                erp_services.handover_retry(order_number=number)
                retried += 1
            except (errors.HandoverNotFound, errors.HandoverNotFailed):
                skipped.append(number)
        self.message_user(request, f"{retried} hand-over(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Not failed, left alone: {', '.join(skipped)}", messages.WARNING)
