"""
Metrics that add up across processes: gunicorn with two workers (gunicorn.conf.py) and a prefork
Celery worker share one multiprocess folder, and every scrape of ``/metrics``, whichever worker
answers it, reads the exact totals, Celery's tasks included. A worker that serves its own
metrics (``WORKER_METRICS_PORT``, docker-compose's set-up) reads its tasks' totals too.
"""

import http.client
import threading
import urllib.request

import pytest
from prometheus_client import multiprocess

from shop.celery import app as celery_app
from tests.celery_worker import wait_for
from tests.metrics_support import Scrape
from tests.redis_server import free_port
from tests.shop.test_graceful_restart import Gunicorn, children

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = "processes-metrics-token"
REQUESTS = 60
HEARTBEAT = "shop.kernel.queue_heartbeat"


def get(port: int, path: str, **headers: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def scrape(port: int) -> Scrape:
    status, body = get(port, "/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200, body
    return Scrape(body.decode())


def campaign_count(folder, pid: int) -> float:
    """What one process counted of the test's campaign, read from its own files only."""
    files = [str(path) for path in folder.glob(f"*_{pid}.db")]
    for family in multiprocess.MultiProcessCollector.merge(files, accumulate=False):
        for sample in family.samples:
            if sample.name == "shop_http_requests_by_campaign_total" and sample.labels["campaign"] == "multi":
                return sample.value
    return 0.0


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "metrics"
    path.mkdir()
    return path


@pytest.fixture
def gunicorn(transactional_db, tmp_path, folder):
    server = Gunicorn(
        tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder), METRICS_TOKEN=TOKEN, METRICS_CAMPAIGNS="multi"
    ).start()
    try:
        yield server
    finally:
        server.stop()


def test_two_gunicorn_workers_and_a_celery_worker_add_up_in_every_scrape(gunicorn, folder, celery_worker):
    statuses = []

    def send(count: int) -> None:
        for _ in range(count):
            statuses.append(get(gunicorn.port, "/healthz", **{"X-Campaign": "multi"})[0])

    def round_of_requests() -> None:
        threads = [threading.Thread(target=send, args=(REQUESTS // 6,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    # Both workers forked, then rounds until both have served some: the server is ready once one
    # worker answers, and the other, still starting or slower to wake, may let the first take a
    # whole round.
    assert wait_for(lambda: len(children(gunicorn.process.pid)) == 2, seconds=30), gunicorn.log()
    workers = children(gunicorn.process.pid)
    for _round in range(10):
        round_of_requests()
        per_worker = [campaign_count(folder, pid) for pid in workers]
        if all(per_worker):
            break
    sent = len(statuses)
    assert statuses == [200] * sent
    assert sum(per_worker) == sent and all(per_worker), per_worker  # both served some
    # Every scrape, whichever worker answers it, sees all of them.
    seen = [
        scrape(gunicorn.port).value("shop_http_requests_by_campaign_total", campaign="multi", context="shop")
        for _ in range(6)
    ]
    assert seen == [sent] * 6

    # A prefork worker of the same machine (same folder): its tasks reach the same scrape.
    celery_worker(
        queues=["default"], pool="prefork", concurrency=2, env={"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    )
    celery_app.send_task(HEARTBEAT, args=["default", None], queue="default")
    celery_app.send_task(HEARTBEAT, args=[], queue="default")  # a missing argument: the task fails

    def tasks(outcome: str) -> float:
        return scrape(gunicorn.port).value(
            "shop_celery_tasks_total", task=HEARTBEAT, queue="default", outcome=outcome
        )

    assert wait_for(lambda: tasks("succeeded") == 1 and tasks("failed") == 1, seconds=60), scrape(
        gunicorn.port
    ).text
    after = scrape(gunicorn.port)
    assert after.value("shop_celery_task_duration_seconds_count", task=HEARTBEAT, queue="default") == 2
    assert after.value("shop_queue_last_consumed_age_seconds", queue="default") < 60  # the heartbeat ran
    assert after.value("shop_http_requests_by_campaign_total", campaign="multi", context="shop") == sent


def test_a_worker_serves_its_own_processes_metrics_on_its_port(transactional_db, tmp_path, celery_worker):
    own_folder = tmp_path / "worker-metrics"
    port = free_port()  # not a fixed one: two test runs on one machine must not collide
    worker = celery_worker(
        queues=["default"],
        pool="prefork",
        concurrency=2,
        env={"PROMETHEUS_MULTIPROC_DIR": str(own_folder), "WORKER_METRICS_PORT": str(port)},
    )
    assert wait_for(lambda: "Worker metrics on" in worker.log(), seconds=30), worker.log()

    for _ in range(3):
        celery_app.send_task(HEARTBEAT, args=["default", None], queue="default")

    def succeeded() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
        return Scrape(text).value(
            "shop_celery_tasks_total", task=HEARTBEAT, queue="default", outcome="succeeded"
        )

    assert wait_for(lambda: succeeded() == 3, seconds=60), worker.log()
