"""Accounts' periodic jobs."""

from celery import shared_task

from shop.accounts import services


@shared_task(name="accounts.purge_expired_tokens", ignore_result=True)
def purge_expired_tokens() -> int:
    """Beat: delete bearer tokens past their expiry (they no longer authenticate); return how many."""
    return services.tokens_purge_expired()
