"""``make run`` starts an exited worker or beat again (``shop.respawn`` in ``Procfile.dev``)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.celery_worker import Worker, wait_for
from tests.shop import worker_tasks
from tests.shop.test_worker_recovery import send

RESPAWN = [sys.executable, "-m", "shop.respawn"]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_make_run_supervises_the_workers_and_beat():
    processes = dict(
        line.split(": ", 1)
        for line in (Path(settings.BASE_DIR) / "Procfile.dev").read_text().splitlines()
        if line
    )

    for name in ("worker", "worker_bulk", "beat"):
        assert processes[name].startswith("python -m shop.respawn celery -A shop "), processes[name]


def test_a_command_that_exits_is_started_again_until_respawn_is_told_to_stop(tmp_path):
    starts = tmp_path / "starts"
    script = (
        "import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
        "p.write_text(p.read_text() + 'x' if p.exists() else 'x'); sys.exit(3)"
    )
    respawn = subprocess.Popen([*RESPAWN, sys.executable, "-c", script, str(starts)], stderr=subprocess.PIPE)
    try:
        # Stopped while it waits to start the command again (the command has exited, no child is
        # left): a signal while the command runs is passed on to it and ends it with that signal.
        assert wait_for(
            lambda: starts.exists() and len(starts.read_text()) >= 3 and not children(respawn.pid), seconds=30
        )
    finally:
        respawn.send_signal(signal.SIGTERM)
        assert respawn.wait(timeout=30) == 3  # the last exit code of the command
    assert b"exited with 3" in respawn.stderr.read()


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_a_killed_worker_comes_back_and_consumes(transactional_db, own_redis, tmp_path):
    log_path = tmp_path / "respawned-worker.log"
    worker = Worker(log_path, queues=["default"], env=own_redis.env, include=[worker_tasks.__name__])
    command = [
        *RESPAWN, sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo",
        "--queues", "default", "--hostname", worker.name, "--include", worker_tasks.__name__,
        "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        respawn = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=worker.environment(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        assert wait_for(lambda: worker.log().count(" ready.") == 1, seconds=60), worker.log()
        (first,) = children(respawn.pid)
        os.kill(first, signal.SIGKILL)

        assert wait_for(lambda: worker.log().count(" ready.") == 2, seconds=60), worker.log()
        assert children(respawn.pid) != [first]
        ran = tmp_path / "ran"
        send(own_redis.url, worker_tasks.mark, str(ran))
        assert wait_for(ran.exists, seconds=60), worker.log()
    finally:
        respawn.send_signal(signal.SIGTERM)
        respawn.wait(timeout=60)
    assert "was ended by signal 9" in worker.log()
