"""
CPU time of the stack's processes, from their own accounting (``/proc/<pid>/stat``: utime + stime),
by group: each started process with all its descendants (gunicorn's master and workers, a Celery
worker and its pool), PostgreSQL's backends serving the run's database, and ``redis-server``.

Sampled every second; a process is known by (pid, start time), so a recycled pid (gunicorn's
``max_requests``) is a new process. Its CPU time during the run is its last sample less its first
(or less 0 when it started during the run). A process that exits loses at most its last second;
PostgreSQL's shared processes (checkpointer, WAL writer) and Redis serve every database of the
machine and are reported as they are.
"""

import os
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def read_stat(pid: int) -> tuple[int, int, float, int] | None:
    """(parent pid, start time in ticks, CPU seconds user+system, process group) of ``pid``."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    ppid, utime, stime, start = int(fields[1]), int(fields[11]), int(fields[12]), int(fields[19])
    return ppid, start, (utime + stime) / TICKS, int(fields[2])


def cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


class Sampler(threading.Thread):
    """Samples the CPU time of process groups every ``every`` s until ``stop()``."""

    def __init__(self, roots: dict[str, list[int]], *, database: str | None = None, every: float = 1.0):
        super().__init__(daemon=True)
        self.roots = roots
        self.database = database
        self.every = every
        self.first: dict[tuple[int, int], float] = {}
        self.last: dict[tuple[int, int], float] = {}
        self.group_of: dict[tuple[int, int], str] = {}
        self.series: list[dict] = []
        self.stopped = threading.Event()
        self.started_first = True

    def classify(self) -> dict[int, tuple[str, int, float]]:
        """pid -> (group, start, cpu seconds) of every process of a group now."""
        stats = {pid: stat for pid in all_pids() if (stat := read_stat(pid))}
        found: dict[int, tuple[str, int, float]] = {}
        children: dict[int, list[int]] = {}
        for pid, (ppid, *_rest) in stats.items():
            children.setdefault(ppid, []).append(pid)
        for group, roots in self.roots.items():
            todo = [pid for pid in roots if pid in stats]
            while todo:
                pid = todo.pop()
                found[pid] = (group, stats[pid][1], stats[pid][2])
                todo += children.get(pid, [])
        for pid, (_ppid, start, seconds, _pgrp) in stats.items():
            if pid in found:
                continue
            line = cmdline(pid)
            if line.startswith("redis-server"):
                found[pid] = ("redis (whole server)", start, seconds)
            elif self.database and line.startswith("postgres: ") and f" {self.database} " in line:
                found[pid] = ("postgresql (backends of the run's database)", start, seconds)
        return found

    def sample(self, *, initial: bool = False) -> None:
        for pid, (group, start, seconds) in self.classify().items():
            key = (pid, start)
            if key not in self.first:
                self.first[key] = seconds if initial else 0.0
                self.group_of[key] = group
            self.last[key] = seconds
        self.series.append({"t": round(time.time(), 3), "groups": self.totals()})

    def totals(self) -> dict[str, float]:
        groups: dict[str, float] = {}
        for key, last in self.last.items():
            group = self.group_of[key]
            groups[group] = groups.get(group, 0.0) + last - self.first[key]
        return groups

    def run(self) -> None:
        self.sample(initial=True)
        while not self.stopped.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        self.sample()

    def totals_at(self, moment: float) -> dict[str, float]:
        """The groups' CPU seconds as of the last sample taken at or before ``moment`` (epoch seconds)."""
        before = [entry["groups"] for entry in self.series if entry["t"] <= moment]
        return before[-1] if before else {}

    def result(self) -> dict:
        return {
            "groups": {group: round(value, 2) for group, value in sorted(self.totals().items())},
            "processes": len(self.last),
            "series": self.series,
        }
