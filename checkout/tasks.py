"""Checkout's periodic jobs."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from checkout import idempotency, services


@shared_task(name="checkout.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS."""
    return idempotency.purge_expired()


@shared_task(name="checkout.purge_checkouts", ignore_result=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def purge_checkouts() -> int:
    """Delete checkouts that are over and untouched for CHECKOUT_RETENTION_DAYS; return how many."""
    return services.checkouts_purge(older_than=timedelta(days=settings.CHECKOUT_RETENTION_DAYS))
