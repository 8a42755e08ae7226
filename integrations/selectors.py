"""Private reads of integrations."""

from django.db.models import Count, QuerySet

from integrations.models import ErpHandover, ExportJob, ImportJob


def handovers(*, status: str | None = None) -> QuerySet[ErpHandover]:
    """ERP hand-overs, optionally of one status (the caller orders and paginates)."""
    queryset = ErpHandover.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def handover_counts(*, statuses=None) -> dict[str, int]:
    """Hand-overs per status (only ``statuses`` if given; a status without any is left out)."""
    queryset = ErpHandover.objects.all()
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    rows = queryset.values_list("status").annotate(count=Count("id")).values_list("status", "count")
    return dict(rows)


def oldest_pending_handover() -> ErpHandover | None:
    """The pending hand-over created first (the status-and-due index narrows it to pending rows)."""
    return ErpHandover.objects.filter(status=ErpHandover.Status.PENDING).order_by("created_at", "id").first()


def recent_import_jobs(*, limit: int) -> list[ImportJob]:
    """The newest import jobs of every kind (the file's bytes are not read)."""
    return list(ImportJob.objects.defer("errors").order_by("-created_at")[:limit])


def recent_export_jobs(*, limit: int) -> list[ExportJob]:
    return list(ExportJob.objects.order_by("-created_at")[:limit])
