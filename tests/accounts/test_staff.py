"""Staff users: sign-in by e-mail whatever the username, and `manage.py create_staff` (DEBUG off)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

TOKEN = "/api/v1/auth/token/"
STOCK = "/api/v1/inventory/stock/ANY-SKU/"  # a staff-only operation
PASSWORD = "a-long-staff-password-42"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def sign_in(email, password=PASSWORD):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json")


def test_a_superuser_whose_username_is_not_the_email_gets_a_token_with_the_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--no-input", "--username", "boss", "--email", "boss@example.com")

    response = sign_in("Boss@Example.com")

    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert client.get(STOCK).status_code != 401  # the staff user is authenticated (404/200, not 401/403)
    assert client.get(STOCK).status_code != 403
    assert sign_in("boss@example.com", "wrong-password").status_code == 401
    # The admin's sign-in form takes the address too, and still the username.
    assert APIClient().login(username="boss@example.com", password=PASSWORD)
    assert APIClient().login(username="boss", password=PASSWORD)


def test_an_address_two_users_share_signs_neither_in():
    user_model = get_user_model()
    for username in ("first", "second"):
        user_model.objects.create_user(username=username, email="shared@example.com", password=PASSWORD)

    response = sign_in("shared@example.com")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_registration_refuses_the_address_of_a_user_with_another_username():
    get_user_model().objects.create_user(username="boss", email="boss@example.com", password=PASSWORD)

    response = APIClient().post(
        "/api/v1/auth/register/", {"email": "BOSS@example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"


def test_create_staff_with_debug_off_makes_a_staff_user_who_signs_in(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)

    call_command("create_staff", "--email", "Ops@Example.com")

    user = get_user_model().objects.get(email="ops@example.com")
    assert user.is_staff and user.is_superuser and user.is_active
    assert sign_in("ops@example.com").status_code == 200
    with pytest.raises(CommandError, match="ensure_dev_user only runs with DEBUG on"):
        call_command("ensure_dev_user")


def test_create_staff_again_sets_the_password_unless_if_absent(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    call_command("create_staff", "--email", "ops@example.com")
    monkeypatch.setenv("STAFF_PASSWORD", "another-long-password-43")

    call_command("create_staff", "--email", "ops@example.com", "--if-absent")
    assert sign_in("ops@example.com").status_code == 200
    call_command("create_staff", "--email", "ops@example.com")
    assert sign_in("ops@example.com", "another-long-password-43").status_code == 200
    assert get_user_model().objects.count() == 1


def test_create_staff_promotes_the_user_who_signs_in_with_the_address(monkeypatch):
    customer = get_user_model().objects.create_user(
        username="ada@example.com", email="ada@example.com", password="x"
    )
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)

    call_command("create_staff", "--email", "ADA@example.com")

    customer.refresh_from_db()
    assert customer.is_staff
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", PASSWORD, "Not an e-mail address"),
        ("ops@example.com", "short", "too weak"),
        ("ops@example.com", "", "set STAFF_PASSWORD"),  # no variable and no terminal to ask in
    ],
)
def test_create_staff_refuses_bad_input_with_a_message(monkeypatch, email, password, message):
    monkeypatch.setenv("STAFF_PASSWORD", password)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)

    with pytest.raises(CommandError, match=message):
        call_command("create_staff", "--email", email)
    assert not get_user_model().objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_create_staff_runs_as_production_does(tmp_path, settings):
    """The command in a process of its own with DEBUG off, as `docker compose run` starts it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what it hashes with
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "VAR_DIR": str(tmp_path),
        "STAFF_PASSWORD": PASSWORD,
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    # As in the image, static files are collected: with DEBUG off every command refuses to run
    # without them (the system check shop.E001).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=120,
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "create_staff", "--email", "ops@example.com"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Staff user ops@example.com created" in result.stdout
    assert get_user_model().objects.get(email="ops@example.com").is_staff
    assert sign_in("ops@example.com").status_code == 200
