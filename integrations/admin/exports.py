"""Export jobs in the admin: read-only (a worker writes them); staff start exports through the API."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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
        "download",
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

    @admin.display(description="File")
    def download(self, job: ExportJob) -> str:
        """
        The API's download of a done export: it reads the file through the storage (a shared
        folder or a bucket), where a link to the file itself would need MEDIA_ROOT served.
        """
        if job.status != ExportJob.Status.DONE or not job.file:
            return "-"
        url = reverse("integrations:export-download", args=[job.id])
        return format_html('<a href="{}">{}</a>', url, job.file.name)
