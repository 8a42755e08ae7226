"""Checkout's periodic jobs."""

from celery import shared_task

from checkout import idempotency


@shared_task(name="checkout.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS."""
    return idempotency.purge_expired()
