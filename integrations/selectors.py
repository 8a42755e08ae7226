"""Private reads of integrations."""

from django.db.models import QuerySet

from integrations.models import ErpHandover


def handovers(*, status: str | None = None) -> QuerySet[ErpHandover]:
    """ERP hand-overs, optionally of one status (the caller orders and paginates)."""
    queryset = ErpHandover.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return queryset
