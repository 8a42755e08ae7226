"""`manage.py init_shop`: what docker compose's one-shot init service runs before the shop serves."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-password-42"


def sign_in(email, password):
    return APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")


def products():
    return APIClient().get("/api/v1/catalog/products/").json()["results"]


def test_init_migrates_and_by_default_seeds_nothing_and_says_how_to_make_a_staff_user(monkeypatch, capsys):
    for variable in ("SEED_DEMO", "STAFF_EMAIL", "STAFF_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)

    call_command("init_shop")

    assert products() == []
    assert not get_user_model().objects.exists()
    assert "manage.py create_staff --email" in capsys.readouterr().out


def test_init_seeds_the_demo_catalog_and_creates_the_staff_user_once(monkeypatch):
    monkeypatch.setenv("SEED_DEMO", "true")
    monkeypatch.setenv("DEMO_PRODUCTS", "3")
    monkeypatch.setenv("STAFF_EMAIL", "ops@example.com")
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)

    call_command("init_shop")

    assert len(products()) == 3
    assert get_user_model().objects.get(email="ops@example.com").is_staff
    assert sign_in("ops@example.com", PASSWORD).status_code == 200

    # The next start: nothing seeded twice, and a password changed since is kept.
    user = get_user_model().objects.get(email="ops@example.com")
    user.set_password("changed-in-the-admin-44")
    user.save()
    monkeypatch.setenv("DEMO_PRODUCTS", "5")
    call_command("init_shop")

    assert len(products()) == 3
    assert sign_in("ops@example.com", "changed-in-the-admin-44").status_code == 200
