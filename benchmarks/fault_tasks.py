"""
Tasks of the Redis restart fault run only (``redis_restart.py`` starts its workers with
``--include fault_tasks``): one that keeps a worker busy, one that leaves a mark it can wait for.
"""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="bench.sleep", ignore_result=True, acks_late=True)
def sleep(seconds: float, started_file: str) -> None:
    """Leave ``started_file`` behind, then hold the worker for ``seconds``."""
    Path(started_file).write_text(str(time.time()))
    time.sleep(seconds)


@shared_task(name="bench.touch", ignore_result=True)
def touch(path: str) -> None:
    """Write the time into ``path``: the mark that a task sent after the restart ran."""
    Path(path).write_text(str(time.time()))
