"""Accounts' writes: registration and bearer tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.accounts import selectors
from shop.accounts.errors import EmailTaken, WeakPassword
from shop.accounts.models import AccessToken


def _check_password(password: str, *, user) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise WeakPassword(exc.messages) from exc


def normalise_email(email: str) -> str:
    return email.strip().lower()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def customer_register(*, email: str, password: str):
    """
    Create a customer account.

    Raises:
        EmailTaken: the address is in use (compared case-insensitively).
        WeakPassword (a ValidationError): the password fails the configured validators.
    """
    user_model = get_user_model()
    email = normalise_email(email)
    user = user_model(username=email, email=email)
    _check_password(password, user=user)
    user.set_password(password)
    if selectors.email_in_use(email):
        raise EmailTaken(email)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration of the same address
        raise EmailTaken(email) from exc
    return user


@transaction.atomic
def staff_user_ensure(*, email: str, password: str, check_password: bool = True):
    """
    Create the staff user (superuser) that signs in with ``email``, or make the user who already
    does a staff user; either way set ``password``. Returns ``(user, created)``.

    Raises:
        WeakPassword (a ValidationError): ``check_password`` and the password fails the
            configured validators.
    """
    user_model = get_user_model()
    email = normalise_email(email)
    user = selectors.user_for_sign_in(email)
    created = user is None
    if created:
        user = user_model(username=email, email=email)
    if check_password:
        _check_password(password, user=user)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return user, created


def token_issue(*, user) -> str:
    """Return a new bearer token for ``user``, valid for ACCESS_TOKEN_DAYS; only its digest is kept."""
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        user=user,
        digest=token_digest(token),
        expires_at=timezone.now() + timedelta(days=settings.ACCESS_TOKEN_DAYS),
    )
    return token


def token_revoke(*, token: str) -> bool:
    """Delete the bearer token ``token`` (sign-out); the user's other tokens stay valid."""
    deleted, _ = AccessToken.objects.filter(digest=token_digest(token)).delete()
    return deleted > 0


def tokens_purge_expired() -> int:
    """Delete the tokens past their expiry (beat, hourly); return how many."""
    deleted, _ = AccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
