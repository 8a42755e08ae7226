"""Sign-out (``POST /api/v1/auth/logout/``) and the purge of expired bearer tokens."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from shop.accounts import services
from shop.accounts.models import AccessToken
from shop.accounts.tasks import purge_expired_tokens
from shop.celery import app as celery_app

LOGOUT = "/api/v1/auth/logout/"
ORDERS = "/api/v1/orders/"  # any operation that needs a signed-in customer
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user(
        username="ada@example.com", email="ada@example.com", password="x"
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_sign_out_revokes_the_token_it_is_called_with_and_no_other(customer):
    phone, laptop = services.token_issue(user=customer), services.token_issue(user=customer)
    assert bearer(phone).get(ORDERS).status_code == 200

    response = bearer(phone).post(LOGOUT)

    assert response.status_code == 204
    assert response.content == b""
    after = bearer(phone).get(ORDERS)
    assert after.status_code == 401
    assert after["Content-Type"] == "application/problem+json"
    assert after.json()["code"] == "not_authenticated"
    assert bearer(phone).post(LOGOUT).status_code == 401  # signing out twice: the token is gone
    assert bearer(laptop).get(ORDERS).status_code == 200
    assert AccessToken.objects.filter(user=customer).count() == 1


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer", "Basic YWRhOng="])
def test_sign_out_without_a_valid_bearer_token_is_401_problem(customer, authorization):
    services.token_issue(user=customer)
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.post(LOGOUT)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"
    assert AccessToken.objects.count() == 1


def test_a_session_alone_does_not_sign_out_a_token(customer):
    token = services.token_issue(user=customer)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(customer)

    assert client.post(LOGOUT).status_code == 401
    assert bearer(token).get(ORDERS).status_code == 200


def test_an_expired_token_no_longer_authenticates_and_the_purge_deletes_it(customer):
    expired, valid = services.token_issue(user=customer), services.token_issue(user=customer)
    AccessToken.objects.filter(digest=services.token_digest(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert bearer(expired).get(ORDERS).status_code == 401

    assert purge_expired_tokens() == 1

    assert list(AccessToken.objects.values_list("digest", flat=True)) == [services.token_digest(valid)]
    assert bearer(valid).get(ORDERS).status_code == 200


def test_beat_purges_expired_tokens_hourly_on_the_housekeeping_queue():
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "accounts.purge_expired_tokens"
    )

    assert entry["schedule"].run_every == timedelta(hours=1)
    assert celery_app.amqp.router.route({}, "accounts.purge_expired_tokens")["queue"].name == "housekeeping"


def test_the_purge_task_is_found_by_the_celery_app_as_a_worker_loads_it():
    """A worker knows the tasks that autodiscovery imports: beat's name must be one of them."""
    script = (
        "import django; django.setup(); from shop.celery import app; app.loader.import_default_modules(); "
        "print('accounts.purge_expired_tokens' in app.tasks)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.stdout.strip() == "True", result.stderr
