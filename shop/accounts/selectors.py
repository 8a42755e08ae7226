"""Accounts' reads."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from shop.accounts.models import AccessToken


def user_for_token_digest(digest: str):
    """The active user holding the unexpired token with ``digest``, or None."""
    token = (
        AccessToken.objects.select_related("user")
        .filter(digest=digest, expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    return token.user if token else None


def active_user(user_id: int):
    """The active user with ``user_id``, or None."""
    return get_user_model().objects.filter(pk=user_id, is_active=True).only("id", "email").first()
