"""
Import jobs of every kind in the admin: read-only reports (a worker writes them), an upload form
for price CSVs (the "Add" button) that goes through the same service as the API, and an action
that sends queued jobs to the worker again (e.g. after the broker was down).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse

from integrations.models import ImportJob
from integrations.services import importing, price_import

_UPLOAD_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}
<p>A UTF-8 CSV whose first line is exactly <code>sku,amount,currency</code>. A worker validates
every row and applies the valid ones; this job's page shows its progress and the rejected rows.</p>
<form method="post" enctype="multipart/form-data">{% csrf_token %}
{{ form.as_p }}
<input type="submit" value="Upload and import">
</form>
{% endblock %}"""
)


class PriceUploadForm(forms.Form):
    file = forms.FileField(label="Price CSV")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "original_name",
        "rows_total",
        "rows_applied",
        "rows_rejected",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "kind",
        "status",
        "file",
        "original_name",
        "rows_total",
        "rows_applied",
        "rows_rejected",
        "errors",
        "failure",
        "created_by_id",
        "created_at",
        "started_at",
        "finished_at",
    ]
    actions = ["send_again"]

    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """The "Add" button: upload a price CSV, checked and queued by the price-import service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PriceUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = price_import.price_import_create(
                    upload=form.cleaned_data["file"], created_by_id=request.user.pk
                )
            except importing.ImportFileInvalid as exc:
                form.add_error("file", str(exc))
            else:
                self.message_user(request, f"Price import {job.pk} queued.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(
                        "admin:integrations_importjob_change", args=[job.pk], current_app=self.admin_site.name
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a price CSV",
            "opts": self.opts,
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, _UPLOAD_TEMPLATE, context)

    @admin.action(description="Send queued price imports to the worker again")
    def send_again(self, request, queryset):
        sent = 0
        for job in queryset.filter(kind=ImportJob.Kind.PRICES, status=ImportJob.Status.QUEUED):
            sent += price_import.price_import_enqueue(job_id=job.pk)
        self.message_user(request, f"{sent} price import(s) sent to the worker.")
