"""Checkout's reads: a checkout for whoever may see it, and orders (pricing is ``checkout.pricing``)."""

from datetime import datetime

from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When

from checkout.models import Checkout, Order, OrderLine


def checkout_for(checkout_id, customer_id: int | None) -> Checkout | None:
    """The checkout if this customer (or a guest, for a guest checkout) may see it."""
    checkout = Checkout.objects.filter(pk=checkout_id).first()
    if checkout is None or (checkout.customer_id is not None and checkout.customer_id != customer_id):
        return None
    return checkout


def orders_of(customer_id: int) -> QuerySet:
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_for(number: str, *, customer_id: int | None, token_digest: str | None) -> Order | None:
    """The order if it belongs to this customer or the access token matches, else None."""
    access = Q(pk__in=[])
    if customer_id is not None:
        access |= Q(customer_id=customer_id)
    if token_digest:
        access |= Q(access_token_digest=token_digest)
    return Order.objects.filter(access, number=number).prefetch_related("lines").first()


def order_by_number(number: str) -> Order | None:
    return Order.objects.filter(number=number).first()


def orders_by_status_since(since: datetime) -> dict[str, int]:
    """Orders created at or after ``since``, counted by their status now."""
    rows = Order.objects.filter(created_at__gte=since).values_list("status").annotate(count=Count("id"))
    return dict(rows.values_list("status", "count"))


def checkouts_by_outcome_since(since: datetime, now: datetime) -> dict[str, int]:
    """Checkouts created at or after ``since`` by outcome (``CheckoutActivity``); one query."""
    outcome = Case(
        When(status=Checkout.Status.OPEN, expires_at__lte=now, then=Value("expired")),
        default=F("status"),
    )
    rows = (
        Checkout.objects.filter(created_at__gte=since)
        .annotate(outcome=outcome)
        .values_list("outcome")
        .annotate(count=Count("id"))
    )
    return dict(rows.values_list("outcome", "count"))
