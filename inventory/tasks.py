"""The inventory's Celery tasks."""

from celery import shared_task

from inventory import services


@shared_task(
    name="inventory.release_expired_reservations", ignore_result=True, soft_time_limit=50, time_limit=60
)
def release_expired_reservations(limit: int = 1000) -> int:
    """
    Clean up expired reservations (beat, every minute). Idempotent: a run that finds nothing,
    or a second run at once, changes nothing; a run that was killed half-way leaves its
    committed batches done and the rest to the next run.
    """
    return services.reservations_release_expired(limit=limit)
