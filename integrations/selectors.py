"""Private reads of integrations."""

from django.db.models import QuerySet

from integrations.models import ErpHandover


def handovers(*, status: str | None = None) -> QuerySet[ErpHandover]:
    """ERP hand-overs, optionally of one status (the caller orders and paginates)."""
    queryset = ErpHandover.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def handover_by_order_number(order_number: str) -> ErpHandover | None:
    return ErpHandover.objects.filter(order_number=order_number).first()
