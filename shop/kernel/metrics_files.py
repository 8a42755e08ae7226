"""
The folder of prometheus-client's multiprocess mode, kept right across starts and restarts.

Every process of one machine (gunicorn's workers, runserver, Celery's worker processes) writes its
samples to files of its own in ``PROMETHEUS_MULTIPROC_DIR`` (``<type>_<pid>.db``), and ``/metrics``
serves their sum, so that counts add up whichever process served a request or ran a task. Files
of processes that have exited stay: their counts are part of the totals (a counter must not go
down while the others run, or every rate over it jumps).

What is done when:

- **start** (``prepare``: ``make run``'s preflight, ``make stack``, gunicorn's ``on_starting``, a
  Celery worker's ``worker_init``): when no other process that wrote to the folder still runs, the
  files of the exited ones are the previous run's and are removed, so that a restarted stack
  starts from zero (Prometheus reads that as a counter reset, which it handles). When another one
  runs (a worker started beside a running web server), nothing is removed.
- **a process exits** (gunicorn's ``child_exit``, a Celery pool process's shutdown):
  ``mark_process_dead`` removes its files of live gauges (``livesum``, ``liveall`` ...), whose
  value means nothing once it is gone; its counters and histograms stay.

No Django here: gunicorn.conf.py and ``shop.preflight`` use it before the settings are loaded.
"""

import contextlib
import os
import re
from pathlib import Path

_FILE = re.compile(r"^[a-z_]+_(\d+)\.db$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (on this machine: the folder is never shared across hosts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True


def writers(path: Path) -> dict[int, list[Path]]:
    """The files of ``path`` by the pid of the process that wrote them."""
    found: dict[int, list[Path]] = {}
    for file in path.glob("*.db"):
        match = _FILE.match(file.name)
        if match:
            found.setdefault(int(match.group(1)), []).append(file)
    return found


def prepare(path: Path | str) -> list[Path]:
    """
    Create the folder; if none of the processes that wrote to it (this one aside) still runs,
    remove the files of those that exited. Returns the files removed.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    by_pid = writers(path)
    own = os.getpid()
    if any(pid_alive(pid) for pid in by_pid if pid != own):
        return []
    removed = []
    for pid, files in by_pid.items():
        if pid == own:
            continue  # this process may have its files open already (a preloaded gunicorn master)
        for file in files:
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
            removed.append(file)
    return removed


def mark_process_dead(pid: int) -> None:
    """A process of the folder exited: remove its live gauges' files (prometheus-client's own rule)."""
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
