"""The cart's periodic job: anonymous carts nobody came back to are deleted."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from cart import services


@shared_task(name="cart.purge_stale_carts", ignore_result=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def purge_stale_carts() -> int:
    """Delete anonymous carts untouched for CART_RETENTION_DAYS; return how many went."""
    return services.carts_purge_stale(older_than=timedelta(days=settings.CART_RETENTION_DAYS))
