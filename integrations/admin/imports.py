"""
Import jobs of every kind in the admin: read-only reports (a worker writes them), an upload form
(the "Add" button) for a price CSV or a product (PIM) feed that goes through the same services as
the API, and an action that sends queued jobs to the worker again (e.g. after the broker was down).
"""

from collections.abc import Callable
from typing import NamedTuple

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse

from integrations import errors
from integrations.models import ImportJob
from integrations.services import dispatch, price_import, product_import

_UPLOAD_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}
<p>Choose what the file holds and upload it. A worker validates every row and applies the valid
ones; the job's page shows its progress and the rejected rows with their row numbers.</p>
<ul>
<li><strong>Prices:</strong> a UTF-8 CSV whose first line is exactly
<code>{{ price_header }}</code>.</li>
<li><strong>Products (PIM):</strong> a UTF-8 CSV whose first line is exactly
<code>{{ product_header }}</code>, optionally followed by <code>,active</code>; or JSON lines
(<code>.jsonl</code>, one object per line with those keys). Products are created or updated by
slug, variants by SKU; <code>active</code> false takes a variant off sale. Nothing is deleted.</li>
</ul>
<form method="post" enctype="multipart/form-data">{% csrf_token %}
{{ form.as_p }}
<input type="submit" value="Upload and import">
</form>
{% endblock %}"""
)


class _ImportKind(NamedTuple):
    label: str
    create: Callable[..., ImportJob]


# The kinds staff upload here, each with the service function the API uses for it.
_KINDS = {
    ImportJob.Kind.PRICES: _ImportKind("Price import", price_import.price_import_create),
    ImportJob.Kind.PRODUCTS: _ImportKind("Product import", product_import.product_import_create),
}


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="The file holds",
        choices=[
            (ImportJob.Kind.PRICES, "Prices (CSV)"),
            (ImportJob.Kind.PRODUCTS, "Products (PIM: CSV or JSON lines)"),
        ],
        initial=ImportJob.Kind.PRICES,
        widget=forms.RadioSelect,
        # Not required: a POST without it (as before products could be uploaded here) is a price CSV.
        required=False,
    )
    # An empty file is left to the service, so that the form says what the API says ("empty").
    file = forms.FileField(label="File", allow_empty_file=True)

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or ImportJob.Kind.PRICES


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
        "stored_file",
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

    @admin.display(description="Stored file")
    def stored_file(self, job: ImportJob) -> str:
        """The file's name in the default storage (a link to it would need MEDIA_ROOT served)."""
        return job.file.name or "-"

    def add_view(self, request, form_url="", extra_context=None):
        """
        The "Add" button: upload a price CSV or a product feed, checked, stored and queued (on
        commit) by the kind's service, as the API does; a refused file is shown on the form with
        the API's message for its problem code, and nothing is stored.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            kind = _KINDS[form.cleaned_data["kind"]]
            try:
                job = kind.create(upload=form.cleaned_data["file"], created_by_id=request.user.pk)
            except errors.ImportFileInvalid as exc:
                form.add_error("file", str(exc))
            else:
                self.message_user(request, f"{kind.label} {job.pk} queued.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(
                        "admin:integrations_importjob_change", args=[job.pk], current_app=self.admin_site.name
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a price CSV or a product feed",
            "opts": self.opts,
            "form": form,
            "price_header": ",".join(price_import.HEADER),
            "product_header": ",".join(product_import.HEADER),
            **(extra_context or {}),
        }
        return TemplateResponse(request, _UPLOAD_TEMPLATE, context)

    @admin.action(description="Send queued imports to the worker again")
    def send_again(self, request, queryset):
        sent = unsent = 0
        for job in queryset.filter(status=ImportJob.Status.QUEUED):
            if dispatch.send(job):
                sent += 1
            else:
                unsent += 1
        self.message_user(request, f"{sent} import(s) sent to the worker.")
        if unsent:
            self.message_user(
                request,
                f"{unsent} import(s) could not be sent (is the broker down?); they stay queued.",
                messages.WARNING,
            )
