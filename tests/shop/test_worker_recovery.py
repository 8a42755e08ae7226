"""
A worker survives Redis restarting empty under it (``kill -9``, no persistence, as docker-compose
runs Redis), and consumes what is sent after it.

celery 5.7.0 did not (issue 8): a worker waiting on Redis for more work while it had a message
unacknowledged (a task running, ``acks_late``) logged "Restoring 1 unacknowledged message(s)"
and ended with ``Unrecoverable error: AttributeError("'NoneType' object has no attribute
'hostname'")``. The worker here runs as production runs it (prefork, two processes) with one
task running when Redis dies, on a ``redis-server`` of the test's own.
"""

import pytest

from shop.celery import app as celery_app
from tests.celery_worker import wait_for
from tests.shop import worker_tasks

QUEUE = "default"
#: Generous: the worker's reconnection backs off 2, 4, 6 ... s; this only detects a worker that is gone.
RECOVERY_WAIT_SECONDS = 90
RESTARTS = 3


def send(broker_url: str, task, *args, queue: str = QUEUE) -> None:
    """Send ``task`` to ``queue`` on the broker at ``broker_url``, trying again while it starts."""

    def sent() -> bool:
        try:
            with celery_app.connection_for_write(broker_url) as connection:
                task.apply_async(args, queue=queue, connection=connection, retry=False)
        except Exception:  # noqa: BLE001 - refused while Redis starts: try again
            return False
        return True

    assert wait_for(sent, seconds=30, interval=0.2), f"could not send {task.name} to {broker_url}"


@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_a_worker_with_a_task_running_survives_redis_restarting_empty(celery_worker, own_redis, tmp_path):
    worker = celery_worker(
        queues=[QUEUE], env=own_redis.env, include=[worker_tasks.__name__], pool="prefork", concurrency=2
    )

    for restart in range(1, RESTARTS + 1):
        started = tmp_path / f"started-{restart}"
        send(own_redis.url, worker_tasks.hold, 5, str(started))
        assert wait_for(started.exists, seconds=30), f"the task did not start:\n{worker.log()}"

        own_redis.restart()  # mid-task: its message is unacknowledged, one process is still free
        ran = tmp_path / f"ran-{restart}"
        send(own_redis.url, worker_tasks.mark, str(ran))

        assert wait_for(lambda ran=ran: ran.exists() or not worker.is_alive(), seconds=RECOVERY_WAIT_SECONDS)
        assert worker.is_alive(), f"the worker exited after restart {restart}:\n{worker.log()}"
        assert ran.exists(), f"the task sent after restart {restart} did not run:\n{worker.log()}"

    log = worker.log()
    assert log.count("Connection to broker lost") >= RESTARTS, log
    assert "Unrecoverable error" not in log, log


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_workers_health_turns_503_naming_the_queues_of_a_worker_that_stopped(
    celery_worker, celery_beat, own_redis, client, settings
):
    """Beat's heartbeats go through Redis to the worker: alive, 200; killed, 503 after the maximum age."""
    settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS = 5
    env = {**own_redis.env, "WORKER_HEARTBEAT_SECONDS": "1", "WORKER_HEARTBEAT_MAX_AGE_SECONDS": "5"}
    bulk = celery_worker(queues=["prices", "exports", "housekeeping"], env=env)
    celery_worker(queues=["default", "erp"], env=env)
    celery_beat(env=env)

    assert wait_for(lambda: client.get("/healthz/workers").status_code == 200, seconds=60, interval=0.5), (
        client.get("/healthz/workers").json()
    )

    bulk.kill()

    def bulk_reported() -> bool:
        response = client.get("/healthz/workers")
        stale = {name for name, queue in response.json()["queues"].items() if queue["status"] != "ok"}
        return response.status_code == 503 and stale == {"prices", "exports", "housekeeping"}

    assert wait_for(bulk_reported, seconds=60, interval=0.5), client.get("/healthz/workers").json()
    detail = client.get("/healthz/workers").json()["detail"]
    assert "prices" in detail and "exports" in detail and "default" not in detail
