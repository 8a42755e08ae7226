"""Export jobs in the admin: read-only (a worker writes them); staff start exports through the API."""

from django.contrib import admin

from integrations.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "format", "rows", "created_at", "finished_at"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "format",
        "status",
        "file",
        "rows",
        "failure",
        "created_by_id",
        "created_at",
        "started_at",
        "finished_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
