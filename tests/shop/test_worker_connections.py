"""
A worker keeps its database connection from task to task, as a web worker does from request to
request (``CONN_MAX_AGE``), and replaces one that broke (``CONN_HEALTH_CHECKS``): shop/celery.py.
celery's Django fix-up alone closes every connection before and after each task, which cost the
worker a new PostgreSQL connection (and PostgreSQL a new backend process) for every event.
"""

import pytest
from django.db import connection

from tests.celery_worker import wait_for
from tests.shop import worker_tasks

QUEUE = "default"


def backend_of_a_task(path) -> int:
    worker_tasks.database_backend.apply_async([str(path)], queue=QUEUE)
    assert wait_for(path.exists, seconds=30), "the task did not run"
    return int(path.read_text())


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
def test_a_worker_keeps_its_database_connection_across_tasks_and_replaces_a_broken_one(
    celery_worker, tmp_path
):
    worker = celery_worker(
        queues=[QUEUE],
        include=[worker_tasks.__name__],
        pool="prefork",
        concurrency=1,
        env={"CONN_MAX_AGE": "60"},  # the settings' default (the test workers' is 0)
    )

    backends = [backend_of_a_task(tmp_path / f"backend-{n}") for n in range(3)]
    assert len(set(backends)) == 1, f"a connection a task: {backends}\n{worker.log()}"

    with connection.cursor() as cursor:  # the database server ends that connection
        cursor.execute("SELECT pg_terminate_backend(%s)", [backends[0]])

    after = backend_of_a_task(tmp_path / "backend-after")
    assert after != backends[0]
    assert backend_of_a_task(tmp_path / "backend-later") == after
    assert "Traceback" not in worker.log(), worker.log()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
def test_with_conn_max_age_0_each_task_has_a_connection_of_its_own(celery_worker, tmp_path):
    celery_worker(queues=[QUEUE], include=[worker_tasks.__name__], pool="prefork", concurrency=1)

    backends = [backend_of_a_task(tmp_path / f"backend-{n}") for n in range(3)]

    assert len(set(backends)) == 3
