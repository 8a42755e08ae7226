"""
Test-only tasks for the worker recovery tests (the worker imports them with ``--include``): one
that keeps a worker process busy, one that leaves a mark the test waits for. Files, not the
database, so that what they show does not depend on the broker or the cache.
"""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.shop.hold", acks_late=True, ignore_result=True)
def hold(seconds: float, started_path: str) -> None:
    """Write ``started_path``, then keep this worker process busy for ``seconds``."""
    Path(started_path).write_text(str(time.time()))
    time.sleep(seconds)


@shared_task(name="tests.shop.mark", ignore_result=True)
def mark(path: str) -> None:
    """Write ``path``: the task ran."""
    Path(path).write_text(str(time.time()))


@shared_task(name="tests.shop.database_backend", ignore_result=True)
def database_backend(path: str) -> None:
    """Write ``path``: the process id of the PostgreSQL backend serving this task's connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        Path(path).write_text(str(cursor.fetchone()[0]))
