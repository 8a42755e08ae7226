"""Liveness, readiness and metrics as API.md describes them."""

import pytest

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_every_dependency_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    assert not response.has_header("Retry-After")


def test_readyz_names_a_stopped_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "cache" in body["detail"]
    assert body["checks"]["cache"].startswith("unavailable")
    assert body["checks"]["database"] == "ok"
    assert response["Retry-After"] == "5"


def test_readyz_names_a_stopped_broker(client, broker_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert "broker" in body["detail"]
    assert body["checks"]["broker"].startswith("unavailable")
    assert body["checks"]["database"] == "ok"
    assert response["Retry-After"] == "5"


@pytest.mark.postgres
def test_readyz_names_a_stopped_database_and_says_when_to_retry(client, database_down, settings):
    settings.RETRY_AFTER_SECONDS = 12

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "12"
    body = response.json()
    assert "database" in body["detail"]
    assert body["checks"]["database"].startswith("unavailable")


def test_metrics_are_open_in_development(client, settings):
    settings.DEBUG = True

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests" in response.content


def test_metrics_need_the_bearer_token_in_production(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200
    assert b"django_http_requests" in response.content


def test_metrics_are_closed_in_production_without_a_token(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 403


def test_readyz_answers_503_while_the_server_drains(client, monkeypatch, tmp_path):
    """gunicorn.conf.py writes the drain's end into the file SHOP_DRAINING_FILE names."""
    import time

    draining_file = tmp_path / "draining"
    monkeypatch.setenv("SHOP_DRAINING_FILE", str(draining_file))
    assert client.get("/readyz").status_code == 200  # no file: not draining

    draining_file.write_text(f"{time.time() + 7.5:.3f}")
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "shutting_down"
    assert 1 <= int(response["Retry-After"]) <= 8
    assert client.get("/healthz").status_code == 200  # alive: only readiness goes
