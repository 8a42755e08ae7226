"""Accounts' reads."""

from django.contrib.auth import get_user_model
from django.db.models import Q
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


def user_for_sign_in(name: str):
    """
    The user whose username is ``name``, or else the one whose e-mail address it is (compared
    case-insensitively); None when there is none, or when several users share the address (it
    cannot say which one signs in).
    """
    users = get_user_model().objects.filter(Q(username=name) | Q(email__iexact=name.strip()))
    matches = list(users[:10])
    by_username = [user for user in matches if user.username == name]
    if by_username:
        return by_username[0]
    return matches[0] if len(matches) == 1 else None


def email_in_use(email: str) -> bool:
    """Whether a user signs in with ``email`` already: as username, or as e-mail address."""
    return get_user_model().objects.filter(Q(username=email) | Q(email__iexact=email)).exists()
