"""
A fault run: Redis is killed (``kill -9``) under the shop's workers and beat and started again
empty, as docker-compose runs it (no persistence), several times; each round measures how long
after Redis is back

* a task sent after the restart takes to run (the workers' reconnection),
* an export job whose message was lost with Redis takes to be done (it was sent before the
  outage and waited behind a task the bulk worker was busy with),
* an export job created while Redis was down (its task could not be sent) takes to be done,

and whether every process is still alive: each worker has a task in flight when Redis dies
(unacknowledged, ``acks_late``), the case that ended celery 5.7.0 workers. The processes are
those of docker-compose: a worker for ``default,erp`` (prefork, 2 processes), one for
``prices,exports,housekeeping`` (1 process) and beat, on a database of their own and a ``redis-server`` of
their own on a free port (never the shared one).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop .venv/bin/python benchmarks/redis_restart.py

Options: ``--rounds 5``, ``--down 5`` (seconds Redis stays down), ``--timeout 240`` (seconds to
wait for each thing before calling it lost), ``--database restartbench``, ``--keep``.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BASE_DIR, bench_database

sys.path.insert(0, str(BASE_DIR))
from tests.redis_server import RedisServer

CACHE_KEY_PREFIX = "restartbench"
BUSY_SECONDS = 6


def wait(condition, timeout: float) -> float | None:
    """Seconds until ``condition()`` held, or None after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def start_processes(env: dict, log_dir: Path) -> dict[str, subprocess.Popen]:
    celery = [sys.executable, "-m", "celery", "-A", "shop"]
    commands = {
        "worker": [*celery, "worker", "--queues", "default,erp", "--concurrency", "2",
                   "--hostname", "worker@%h", "--include", "fault_tasks"],
        "worker-bulk": [*celery, "worker", "--queues", "prices,exports,housekeeping", "--concurrency", "1",
                        "--hostname", "bulk@%h", "--include", "fault_tasks"],
        "beat": [*celery, "beat"],
    }  # fmt: skip
    processes = {}
    for name, command in commands.items():
        with open(log_dir / f"{name}.log", "ab") as log:
            processes[name] = subprocess.Popen(  # noqa: S603 - celery, with arguments of this script
                [*command, "--loglevel", "INFO"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
    for name in ("worker", "worker-bulk"):
        log = log_dir / f"{name}.log"
        if wait(lambda log=log: " ready." in log.read_text(errors="replace"), 60) is None:
            raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')}")
    return processes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--down", type=float, default=5.0, help="seconds Redis stays down")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--database", default="restartbench")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("redis-server is needed on PATH.")

    run_dir = Path(tempfile.mkdtemp(prefix="restartbench-"))
    redis = RedisServer(run_dir)
    redis.start()
    processes: dict[str, subprocess.Popen] = {}
    try:
        with bench_database(
            args.database, cache_key_prefix=CACHE_KEY_PREFIX, keep=args.keep, broker_url=redis.url
        ):
            import fault_tasks
            from django.conf import settings
            from django.core.management import call_command

            from integrations.models import ExportJob
            from integrations.services import exports

            call_command("migrate", verbosity=0)
            env = {
                **os.environ,
                "REDIS_URL": redis.url,
                "CELERY_BROKER_URL": redis.url,
                "VAR_DIR": str(settings.VAR_DIR),
                "PYTHONPATH": os.pathsep.join([str(BASE_DIR / "benchmarks"), str(BASE_DIR)]),
                "PYTHONUNBUFFERED": "1",
                "LOG_LEVEL": "INFO",
            }
            processes = start_processes(env, run_dir)

            def done(job_id) -> bool:
                return ExportJob.objects.get(pk=job_id).status == ExportJob.Status.DONE

            print(f"{'round':>5} {'new task s':>11} {'lost export s':>14} {'outage export s':>16}  alive")
            for number in range(1, args.rounds + 1):
                # Both workers busy when Redis dies: the bulk one with its only process, the other
                # with one of its two (so that it still waits on Redis for more).
                for queue in ("exports", "default"):
                    started = run_dir / f"busy-{queue}-{number}"
                    fault_tasks.sleep.apply_async((BUSY_SECONDS, str(started)), queue=queue)
                    if wait(started.exists, 60) is None:
                        raise RuntimeError(f"no worker took the task on {queue}")
                lost = exports.export_create()  # waits behind the busy task, in Redis
                time.sleep(1)
                redis.kill()
                down_since = time.monotonic()
                outage = exports.export_create()  # its task cannot be sent
                time.sleep(max(0.0, args.down - (time.monotonic() - down_since)))
                redis.start()
                back = time.time()
                mark = run_dir / f"mark-{number}"
                for _attempt in range(50):  # the producer's pooled connection reconnects on first use
                    try:
                        fault_tasks.touch.apply_async((str(mark),), queue="default")
                        break
                    except Exception:  # noqa: BLE001 - a send refused right after the restart is tried again
                        time.sleep(0.1)
                deadline = back + args.timeout
                wait(mark.exists, deadline - time.time())
                jobs = (lost.pk, outage.pk)
                wait(lambda jobs=jobs: all(done(job) for job in jobs), deadline - time.time())
                # Each figure counts from the moment Redis was back, by the clock of what ran.
                figures = [f"{float(mark.read_text()) - back:.1f}" if mark.exists() else "never"]
                for job in (lost, outage):
                    job.refresh_from_db()
                    finished = job.status == ExportJob.Status.DONE and job.finished_at
                    figures.append(f"{job.finished_at.timestamp() - back:.1f}" if finished else "never")
                alive = ",".join(name for name, proc in processes.items() if proc.poll() is None) or "none"
                print(f"{number:>5} {figures[0]:>11} {figures[1]:>14} {figures[2]:>16}  {alive}", flush=True)
                if any(process.poll() is not None for process in processes.values()):
                    print("A process exited; its log is in", run_dir)
                    break
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
        redis.kill()
        if args.keep:
            print("logs in", run_dir)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
