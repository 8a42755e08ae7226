"""The project's set-up: production settings, the OpenAPI schema, docker-compose, Celery queues."""

import json
import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shop.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    environment = {**os.environ, **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "shop.example.com"}


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    collected = run_manage("collectstatic", "--no-input", "-v0", **PRODUCTION, VAR_DIR=str(tmp_path))
    assert collected.returncode == 0, collected.stderr

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_collected_static_files(tmp_path):
    result = run_manage("check", **PRODUCTION, VAR_DIR=str(tmp_path))

    assert result.returncode == 1
    assert "(shop.E001) The static files were not collected" in result.stderr
    assert "manage.py collectstatic --no-input" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage("check", DEBUG="false", SECRET_KEY="", VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.django_db
def test_openapi_schema_describes_the_catalog_with_its_errors(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/v1/catalog/categories/",
        "/api/v1/catalog/products/",
        "/api/v1/catalog/products/{slug}/",
    }
    product_list = paths["/api/v1/catalog/products/"]["get"]
    parameters = {parameter["name"] for parameter in product_list["parameters"]}
    assert parameters >= {
        "search",
        "category",
        "price_min",
        "price_max",
        "in_stock",
        "ordering",
        "cursor",
        "page_size",
    }
    assert "application/problem+json" in product_list["responses"]["400"]["content"]
    detail = paths["/api/v1/catalog/products/{slug}/"]["get"]
    assert "application/problem+json" in detail["responses"]["404"]["content"]
    assert "Problem" in schema["components"]["schemas"]


@pytest.mark.django_db
def test_api_docs_page_is_served_without_outside_assets(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"cdn.jsdelivr" not in response.content


def test_docker_compose_runs_every_part_against_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert set(services) >= {
        "db",
        "redis",
        "init",
        "web",
        "worker",
        "worker-bulk",
        "beat",
        "erp-simulator",
    }
    for name in ("web", "worker", "worker-bulk", "beat", "init"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert environment["DEBUG"] == "false"
    assert "beat" in services["beat"]["command"]
    assert services["web"]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    consumed = set()
    for name in ("worker", "worker-bulk"):
        command = services[name]["command"]
        assert "worker" in command
        consumed |= set(command[command.index("--queues") + 1].split(","))
    assert consumed == {queue.name for queue in celery_app.conf.task_queues}
    assert services["erp-simulator"]["command"][:3] == ["python", "-m", "integrations.erp_simulator"]


def test_docker_compose_initialises_the_shop_once_before_the_other_services_start():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    init = services["init"]

    assert init["command"] == ["python", "manage.py", "init_shop"]
    assert init["restart"] == "no"
    assert init["depends_on"]["db"]["condition"] == "service_healthy"
    for variable in ("SEED_DEMO", "STAFF_EMAIL", "STAFF_PASSWORD"):
        assert variable in init["environment"], variable
    assert init["environment"]["SEED_DEMO"] == "${SEED_DEMO:-false}"  # no demo data unless asked for
    for name in ("web", "worker", "worker-bulk", "beat"):
        assert services[name]["depends_on"]["init"] == {"condition": "service_completed_successfully"}, name
    assert "migrate" not in services  # the init service migrates


def compose_seconds(duration: str) -> float:
    """A docker-compose duration ("1m30s", "45s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def test_web_server_runs_gunicorn_conf_and_is_killed_only_after_its_drain_and_graceful_timeout(monkeypatch):
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    for name, value in web["environment"].items():
        # ${NAME:-default} as compose resolves it with NAME unset
        monkeypatch.setenv(name, re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)))
    gunicorn_conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    drain = gunicorn_conf["SHUTDOWN_DRAIN_SECONDS"]
    healthcheck = web["healthcheck"]

    assert web["command"][:3] == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert web["command"][-1] == "shop.wsgi:application"
    assert drain > 0
    assert compose_seconds(web["stop_grace_period"]) > drain + gunicorn_conf["graceful_timeout"]
    assert gunicorn_conf["graceful_timeout"] >= gunicorn_conf["timeout"]
    # Readiness is the health check, and it goes unhealthy before the drain ends.
    assert "/readyz" in " ".join(healthcheck["test"])
    unhealthy_after = compose_seconds(healthcheck["interval"]) * healthcheck["retries"]
    assert unhealthy_after + compose_seconds(healthcheck["timeout"]) < drain
    dockerfile_cmd = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    assert json.loads(dockerfile_cmd.removeprefix("CMD ")) == web["command"]


def test_docker_compose_starts_an_exited_process_again_and_checks_each_workers_queues():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    for name in ("web", "worker", "worker-bulk", "beat", "erp-simulator"):
        assert services[name]["restart"] == "unless-stopped", name
    for name in ("worker", "worker-bulk"):
        command = services[name]["command"]
        check = services[name]["healthcheck"]["test"]
        assert check[:4] == ["CMD", "python", "manage.py", "queue_health"], name
        assert check[4] == command[command.index("--queues") + 1], name  # the queues it consumes


def test_celery_has_its_queues_json_and_time_limits():
    conf = celery_app.conf

    queues = {"default", "erp", "prices", "exports", "housekeeping"}
    assert {queue.name for queue in conf.task_queues} == queues
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert celery_app.amqp.router.route({}, "integrations.erp_handover")["queue"].name == "erp"
    assert celery_app.amqp.router.route({}, "integrations.price_import")["queue"].name == "prices"
    assert celery_app.amqp.router.route({}, "integrations.export_feed")["queue"].name == "exports"
    assert celery_app.amqp.router.route({}, "shop.kernel.relay_outbox")["queue"].name == "default"
    assert celery_app.amqp.router.route({}, "shop.kernel.purge_outbox")["queue"].name == "housekeeping"
    assert celery_app.amqp.router.route({}, "cart.purge_stale_carts")["queue"].name == "housekeeping"


def test_openapi_schema_is_valid_and_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    assert schema["openapi"].startswith("3.")


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_connections_run_without_jit():
    """Compiling a short query with a high cost estimate took longer than running it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_every_long_task_is_routed_to_a_queue_only_the_bulk_worker_consumes():
    """
    A task allowed minutes (imports, the stock sync, exports) runs on the one-process bulk worker,
    never on the ``default,erp`` worker, whose hand-overs it would hold up.
    """
    celery_app.loader.import_default_modules()  # every context's tasks, as a worker registers them

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    queues = {}
    for name in ("worker", "worker-bulk"):
        command = services[name]["command"]
        queues[name] = set(command[command.index("--queues") + 1].split(","))
    long_tasks = {
        name: task
        for name, task in celery_app.tasks.items()
        if not name.startswith("celery.") and (task.soft_time_limit or 0) > 5 * 60
    }

    purges = {"cart.purge_stale_carts", "checkout.purge_checkouts"}
    assert {"integrations.stock_sync_run", *purges} <= set(long_tasks)
    for name in long_tasks:
        queue = celery_app.amqp.router.route({}, name)["queue"].name
        assert queue in queues["worker-bulk"] - queues["worker"], f"{name} runs on {queue}"


def test_a_product_url_template_with_an_unknown_placeholder_is_refused_at_start(tmp_path):
    result = run_manage(
        "check", DEBUG="true", VAR_DIR=str(tmp_path), PRODUCT_URL_TEMPLATE="https://shop.example/{handle}/"
    )

    assert result.returncode != 0
    assert "PRODUCT_URL_TEMPLATE 'https://shop.example/{handle}/' is not a template" in result.stderr


def in_fresh_process(code: str, tmp_path, **env) -> dict:
    """
    Run ``code`` after ``django.setup()`` with the production settings and ``env`` in a process of
    its own (settings are read once, at start) and return the JSON it prints.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MEDIA_ROOT", "EXPORT_"))}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment |= {"DJANGO_SETTINGS_MODULE": "shop.settings.base", "DEBUG": "true", "VAR_DIR": str(tmp_path)}
    environment |= env
    script = f"import django, json\ndjango.setup()\n{code}"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


DEFAULT_STORAGE = """
from django.conf import settings
from django.core.files.storage import storages
storage = storages["default"]
print(json.dumps({
    "class": f"{type(storage).__module__}.{type(storage).__name__}",
    "media_root": str(settings.MEDIA_ROOT),
    "location": str(getattr(storage, "location", "")),
    "bucket": getattr(storage, "bucket_name", None),
    "endpoint": getattr(storage, "endpoint_url", None),
    "addressing": getattr(storage, "addressing_style", None),
    "url": storage.url("exports/feed.csv") if hasattr(storage, "bucket_name") else None,
}))
"""


def test_docker_compose_mounts_one_volume_at_the_media_root_of_web_and_both_workers(tmp_path):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    mounted = {}
    for name in ("web", "worker", "worker-bulk"):
        media_root = services[name]["environment"]["MEDIA_ROOT"]
        volumes = dict(reversed(volume.split(":")[:2]) for volume in services[name]["volumes"])
        assert media_root in volumes, f"{name}: nothing mounted at MEDIA_ROOT {media_root}"
        mounted[name] = (volumes[media_root], media_root)
    assert len(set(mounted.values())) == 1, mounted  # the same volume at the same place
    volume, media_root = mounted["web"]
    assert volume in compose["volumes"]  # a named volume, not a folder of one host
    # The settings store files there, on the file system: what the workers read is what web wrote.
    storage = in_fresh_process(DEFAULT_STORAGE, tmp_path, MEDIA_ROOT=media_root)
    assert storage["class"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert storage["media_root"] == storage["location"] == media_root
    # The image creates the mount point for its user, so that a new volume is writable by it.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(rf"mkdir -p [^&]*{re.escape(media_root)}", dockerfile)
    assert re.search(rf"chown -R shop [^&]*{re.escape(media_root)}", dockerfile)


def test_a_bucket_in_the_environment_selects_s3_storage_with_its_endpoint(tmp_path):
    storage = in_fresh_process(
        DEFAULT_STORAGE,
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_S3_ENDPOINT_URL="http://minio:9000",
        AWS_ACCESS_KEY_ID="minio-key",
        AWS_SECRET_ACCESS_KEY="minio-secret",
    )

    assert storage["class"] == "storages.backends.s3.S3Storage"
    assert (storage["bucket"], storage["endpoint"], storage["addressing"]) == (
        "shop-media",
        "http://minio:9000",
        "path",
    )
    # Signed on the spot, without a request: private objects at the given endpoint, SigV4.
    assert storage["url"].startswith("http://minio:9000/shop-media/exports/feed.csv?")
    assert "X-Amz-Signature=" in storage["url"] and "X-Amz-Credential=minio-key" in storage["url"]


def test_without_a_bucket_files_stay_under_media_root(tmp_path):
    storage = in_fresh_process(DEFAULT_STORAGE, tmp_path)

    assert storage["class"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert storage["location"] == storage["media_root"] == str(tmp_path / "media")


def test_a_download_redirect_without_a_bucket_is_refused_at_start(tmp_path):
    result = run_manage("check", DEBUG="true", VAR_DIR=str(tmp_path), EXPORT_DOWNLOAD_REDIRECT="true")

    assert result.returncode != 0
    assert "EXPORT_DOWNLOAD_REDIRECT needs object storage" in result.stderr


def _mounts(service: dict) -> dict[str, str]:
    """A compose service's volumes as {target in the container: source}."""
    return {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}


def test_docker_compose_runs_prometheus_scraping_web_and_each_worker():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    prometheus = services["prometheus"]
    mounts = _mounts(prometheus)
    command = " ".join(prometheus["command"])
    config_path = re.search(r"--config\.file=(\S+)", command).group(1)
    config = yaml.safe_load((ROOT / mounts[config_path]).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    # web's /metrics with the bearer token: the same METRICS_TOKEN, written where the job reads it.
    web_job = jobs["shop-web"]
    assert web_job["metrics_path"] == "/metrics"
    assert web_job["static_configs"][0]["targets"] == ["web:8000"]
    assert "0.0.0.0:8000" in " ".join(services["web"]["command"])
    token_file = web_job["authorization"]["credentials_file"]
    assert f'printf %s "$$METRICS_TOKEN" > {token_file}' in command
    assert prometheus["environment"]["METRICS_TOKEN"] == services["web"]["environment"]["METRICS_TOKEN"]
    assert services["web"]["environment"]["METRICS_TOKEN"].startswith("${METRICS_TOKEN:?")  # never open
    allowed = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", services["web"]["environment"]["ALLOWED_HOSTS"])
    assert "web" in allowed.split(",")  # the Host header Prometheus sends
    # Each worker container serves its own processes' sum on its port, not published to the host.
    targets = set(jobs["shop-workers"]["static_configs"][0]["targets"])
    for name in ("worker", "worker-bulk"):
        environment = services[name]["environment"]
        assert f"{name}:{environment['WORKER_METRICS_PORT']}" in targets, name
        assert environment["WORKER_METRICS_ADDRESS"] == "0.0.0.0", name  # noqa: S104 - in its container
        assert "ports" not in services[name], name
    assert len(targets) == 2
    # The alert rules are mounted where the configuration looks for them.
    for rule_file in config["rule_files"]:
        assert (ROOT / mounts[rule_file]).read_text().startswith("# The shop's alert rules")
    assert "prometheus-data" in compose["volumes"]


def test_docker_compose_runs_grafana_with_the_data_source_and_dashboard_provisioned():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    grafana = services["grafana"]
    mounts = _mounts(grafana)

    provisioning = ROOT / mounts["/etc/grafana/provisioning"]
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][
        0
    ]
    assert datasource["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in services["prometheus"]["ports"]
    provider = yaml.safe_load((provisioning / "dashboards" / "shop.yml").read_text())["providers"][0]
    dashboards = ROOT / mounts[provider["options"]["path"]]
    dashboard = json.loads((dashboards / "shop.json").read_text())
    assert {
        target["datasource"]["uid"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    } == {datasource["uid"]}
    assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == (
        f"{provider['options']['path']}/shop.json"
    )
    assert "127.0.0.1:3000:3000" in grafana["ports"]
