"""Liveness, readiness and metrics as the OpenAPI schema describes them."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_every_dependency_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "static": "ok"}
    assert not response.has_header("Retry-After")


@pytest.fixture
def manifest_storage(settings, tmp_path):
    """The static files storage of production (DEBUG off), on a STATIC_ROOT nothing was collected into."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()  # as the settings make it
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    return settings.STATIC_ROOT


def collect(static_root):
    """What ``collectstatic`` leaves for the manifest storage: its manifest (the files aside)."""
    static_root.mkdir(parents=True, exist_ok=True)
    paths = {"admin/css/base.css": "admin/css/base.0123456789ab.css"}
    (static_root / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "0"}))


def test_readyz_names_static_files_that_were_never_collected(client, manifest_storage):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["detail"] == "Unavailable: static."
    assert body["checks"]["static"] == "unavailable: RuntimeError"
    assert body["checks"]["database"] == "ok"


def test_readyz_is_ok_once_the_static_files_are_collected(client, manifest_storage):
    collect(manifest_storage)

    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["static"] == "ok"


def test_the_system_check_fails_while_the_static_files_are_not_collected(manifest_storage):
    with pytest.raises(SystemCheckError, match=r"(?s)shop\.E001.*collectstatic"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_system_check_passes_once_the_static_files_are_collected(manifest_storage):
    collect(manifest_storage)

    call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


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


QUEUES = ["default", "erp", "prices", "exports", "housekeeping"]


def beat_all(now, *, except_queue: str | None = None, age_seconds: float = 1):
    from shop.kernel.models import QueueHeartbeat

    for queue in QUEUES:
        consumed = now - datetime.timedelta(seconds=age_seconds if queue != except_queue else 3600)
        QueueHeartbeat.objects.update_or_create(
            queue=queue, defaults={"sent_at": consumed, "consumed_at": consumed, "worker": f"w@{queue}"}
        )


def test_workers_health_names_every_queue_no_worker_ever_consumed(client):
    response = client.get("/healthz/workers")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert all(queue in body["detail"] for queue in QUEUES)
    assert {name: queue["status"] for name, queue in body["queues"].items()} == dict.fromkeys(QUEUES, "stale")


def test_workers_health_is_ok_while_every_queue_is_consumed(client):
    beat_all(timezone.now())

    response = client.get("/healthz/workers")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["queues"]) == set(QUEUES)
    assert body["queues"]["prices"]["worker"] == "w@prices"
    assert body["queues"]["prices"]["age_seconds"] < 60


def test_workers_health_names_the_queue_whose_heartbeat_is_too_old(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS = 120
    beat_all(timezone.now(), except_queue="exports")

    response = client.get("/healthz/workers")

    assert response.status_code == 503
    body = response.json()
    assert "exports" in body["detail"] and "prices" not in body["detail"]
    assert body["queues"]["exports"]["status"] == "stale"
    assert body["queues"]["exports"]["age_seconds"] >= 3600
    assert body["queues"]["default"]["status"] == "ok"


def test_readyz_keeps_its_meaning_without_workers(client):
    """Readiness is the web process's: no worker running does not take it out of a load balancer."""
    assert client.get("/healthz/workers").status_code == 503

    assert client.get("/readyz").status_code == 200


def test_queue_health_command_checks_the_queues_named(settings):
    from django.core.management import CommandError, call_command

    beat_all(timezone.now(), except_queue="exports")

    call_command("queue_health", "default,erp", stdout=io.StringIO())  # exits 0
    call_command("queue_health", "prices", stdout=io.StringIO())
    with pytest.raises(CommandError, match="exports"):
        call_command("queue_health", "prices", "exports", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Unknown queue"):
        call_command("queue_health", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="exports"):
        call_command("queue_health", stdout=io.StringIO())  # all queues
