"""
Benchmark: requests lost or stalled while gunicorn reloads and restarts under a steady load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python benchmarks/graceful_reload.py

``DATABASE_URL`` names the server (127.0.0.1 or localhost only); the benchmark works in a database
of its own (``--database``, default ``gracefulbench``), migrated at the start and dropped at the
end. gunicorn serves ``shop.wsgi:application`` with the project's ``gunicorn.conf.py`` on loopback
(ports ``--port`` and ``--port + 1``), in production settings (``DEBUG`` off). With ``REDIS_URL``
cache and broker are Redis (cache keys under ``gracefulbench``), else local memory and the file
system. ``--baseline`` runs gunicorn as the Dockerfile did before the graceful path (``--workers 3
--timeout 30``, no configuration file): the figures to compare with.

The load: ``--threads`` clients, each sending ``GET /healthz`` and ``GET
/api/v1/catalog/categories/`` in turn on a new connection (``http.client``), ``--pause`` seconds
apart, through a "load balancer" in this process that sends each request to a backend in rotation
(round robin). The balancer probes every backend's ``/readyz`` each ``--probe-interval`` seconds,
takes a backend out of rotation after ``--unhealthy-after`` failed probes in a row (503 or no
answer) and back in after one good probe; it does not retry. A request fails when it gets no
answer (refused, reset, closed, timed out), a 5xx, or finds no backend in rotation.

Scenarios (``--scenario``, default all of them in this order):

``hup``
    one gunicorn; ``kill -HUP`` to its master (new workers, the old ones stopped gracefully).
``usr2``
    one gunicorn; ``kill -USR2`` (a new master with new workers on the same socket, loading new
    code even with ``preload_app``), then, once the new master has all its workers, ``kill -TERM``
    to the old master.
``rolling``
    two gunicorns behind the balancer, restarted one after the other as an orchestrator does:
    ``kill -TERM``, wait for the exit, start it again, wait until the balancer has it back in
    rotation. ``SHUTDOWN_DRAIN_SECONDS`` (``--drain``) must exceed what the balancer needs to notice
    a 503 (``--probe-interval`` times ``--unhealthy-after``, plus a probe).

For each: requests sent, failed (by kind), latency p50/p99/max, and the longest stall (the longest
time in which no request was answered). Each scenario runs a few seconds before and after its
signals (``--settle``). Everything stops at the end, also on errors.
"""

import argparse
import contextlib
import http.client
import itertools
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import BASE_DIR, bench_database

CACHE_KEY_PREFIX = "gracefulbench"
LOAD_PATHS = ("/healthz", "/api/v1/catalog/categories/")
READY_SECONDS = 90


@dataclass
class Result:
    started: float
    ended: float
    ok: bool
    kind: str  # "200", "HTTP 503", "refused", "reset", ...


@dataclass
class Backend:
    """One gunicorn (master and workers) on ``port``."""

    port: int
    args: argparse.Namespace
    env: dict
    log_dir: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def pidfile(self) -> Path:
        return self.log_dir / f"gunicorn-{self.port}.pid"

    def start(self) -> "Backend":
        self.starts += 1
        command = [str(Path(sys.executable).parent / "gunicorn")]
        if self.args.baseline:
            empty = self.log_dir / "empty.conf.py"
            empty.write_text("")
            # The command of the Dockerfile before the graceful path (and no configuration file:
            # gunicorn would read ./gunicorn.conf.py by default). No control socket: gunicorn's
            # default path in $HOME is shared by every gunicorn of the user.
            command += ["--config", str(empty), "--workers", str(self.args.workers), "--timeout", "30"]
            command += ["--no-control-socket"]
        else:
            command += ["--config", str(BASE_DIR / "gunicorn.conf.py")]
        command += ["shop.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--pid", str(self.pidfile)]
        log = (self.log_dir / f"gunicorn-{self.port}-{self.starts}.log").open("ab")
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=log)  # noqa: S603
        deadline = time.monotonic() + READY_SECONDS
        while probe(self.port) != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn on port {self.port} did not get ready; see {log.name}")
            time.sleep(0.1)
        return self

    def master_pid(self) -> int:
        return int(self.pidfile.read_text().strip())


def probe(port: int, path: str = "/readyz", timeout: float = 2.0) -> int | None:
    """The status of ``GET path`` on ``port``, or None without an answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers of a master), from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
    return found


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in (Path(f"/proc/{pid}/status").read_text())


@dataclass
class Balancer:
    """Round robin over the backends in rotation; a probe thread keeps the rotation up to date."""

    ports: list[int]
    interval: float
    unhealthy_after: int
    in_rotation: dict = field(default_factory=dict)
    probes_503: int = 0
    _cycle: itertools.cycle = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.in_rotation = dict.fromkeys(self.ports, True)
        self._failures = dict.fromkeys(self.ports, 0)
        self._cycle = itertools.cycle(self.ports)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._probe_loop, daemon=True)
        self._thread.start()

    def pick(self) -> int | None:
        with self._lock:
            for _ in range(len(self.ports)):
                port = next(self._cycle)
                if self.in_rotation[port]:
                    return port
        return None

    def _probe_loop(self):
        while not self._stop.wait(self.interval):
            for port in self.ports:
                status = probe(port)
                self.probes_503 += status == 503
                with self._lock:
                    if status == 200:
                        self._failures[port] = 0
                        self.in_rotation[port] = True
                    else:
                        self._failures[port] += 1
                        if self._failures[port] >= self.unhealthy_after:
                            self.in_rotation[port] = False

    def stop(self):
        self._stop.set()
        self._thread.join()


class Load:
    """``threads`` clients sending requests through the balancer until stopped."""

    def __init__(self, balancer: Balancer, *, threads: int, pause: float):
        self.balancer = balancer
        self.pause = pause
        self.results: list[Result] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def _run(self, number: int):
        first = number % len(LOAD_PATHS)  # the clients start on different paths
        paths = itertools.cycle(LOAD_PATHS[first:] + LOAD_PATHS[:first])
        while not self._stop.is_set():
            path = next(paths)
            started = time.monotonic()
            port = self.balancer.pick()
            if port is None:
                self.results.append(Result(started, time.monotonic(), False, "no backend"))
            else:
                self.results.append(self._request(port, path, started))
            self._stop.wait(self.pause)

    @staticmethod
    def _request(port: int, path: str, started: float) -> Result:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": "127.0.0.1"})
            response = connection.getresponse()
            response.read()
        except ConnectionRefusedError:
            kind = "refused"
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            kind = "reset"
        except TimeoutError:
            kind = "timeout"
        except (OSError, http.client.HTTPException) as exc:
            kind = type(exc).__name__
        else:
            return Result(started, time.monotonic(), response.status < 500, str(response.status))
        finally:
            connection.close()
        return Result(started, time.monotonic(), False, kind)

    def stop(self) -> list[Result]:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.stopped = time.monotonic()
        return self.results


def report(name: str, load: Load, balancer: Balancer, notes: list[str]) -> dict:
    results = load.results
    failed = [result for result in results if not result.ok]
    kinds: dict[str, int] = {}
    for result in failed:
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
    answers: dict[str, int] = {}
    for result in results:
        if result.ok:
            answers[result.kind] = answers.get(result.kind, 0) + 1
    latencies = sorted((result.ended - result.started) * 1000 for result in results if result.ok)
    answered = sorted(result.ended for result in results if result.ok)
    edges = [load.started, *answered, load.stopped]
    stall = max(later - earlier for earlier, later in itertools.pairwise(edges))
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    figures = {
        "scenario": name,
        "sent": len(results),
        "failed": len(failed),
        "failed_by_kind": kinds,
        "answers": answers,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": p99,
        "max_ms": latencies[-1] if latencies else float("nan"),
        "longest_stall_s": stall,
        "readyz_503_probes": balancer.probes_503,
    }
    kinds_text = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) or "none"
    print(
        f"{name:8} sent {figures['sent']:6,}  failed {figures['failed']:5,} ({kinds_text})  "
        f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:7.1f} ms  max {figures['max_ms']:7.1f} ms  "
        f"longest stall {stall:5.2f} s  /readyz 503 probes {balancer.probes_503}"
    )
    answers_text = ", ".join(f"{count:,} x {status}" for status, count in sorted(answers.items()))
    for note in [f"answered: {answers_text}", *notes]:
        print(f"{'':8} {note}")
    return figures


def scenario_hup(args, make_backend) -> dict:
    backend = make_backend(args.port).start()
    balancer = Balancer([backend.port], args.probe_interval, args.unhealthy_after)
    load = Load(balancer, threads=args.threads, pause=args.pause)
    notes = []
    try:
        time.sleep(args.settle)
        master = backend.master_pid()
        old_workers = children(master)
        signalled = time.monotonic()
        os.kill(master, signal.SIGHUP)

        def replaced():
            current = children(master)
            return len(current) == len(old_workers) and not current & old_workers

        wait_until(replaced, 60, "the new workers after HUP")
        notes.append(f"old workers replaced {time.monotonic() - signalled:.2f} s after HUP")
        time.sleep(args.settle)
    finally:
        load.stop()
        balancer.stop()
        stop_backend(backend)
    return report("hup", load, balancer, notes)


def scenario_usr2(args, make_backend) -> dict:
    backend = make_backend(args.port).start()
    balancer = Balancer([backend.port], args.probe_interval, args.unhealthy_after)
    load = Load(balancer, threads=args.threads, pause=args.pause)
    notes = []
    new_master = None
    try:
        time.sleep(args.settle)
        old_master = backend.master_pid()
        old_workers = children(old_master)
        signalled = time.monotonic()
        os.kill(old_master, signal.SIGUSR2)

        def new_master_with_workers():
            nonlocal new_master
            # The new master is a child of the old one (it writes its pid to the pidfile + ".2").
            for pid in children(old_master) - old_workers:
                if len(children(pid)) >= args.workers:
                    new_master = pid
                    return True
            return False

        wait_until(new_master_with_workers, 60, "the new master and its workers after USR2")
        notes.append(
            f"new master with {args.workers} workers {time.monotonic() - signalled:.2f} s after USR2"
        )
        time.sleep(1)  # its workers boot (with preload_app: the fork alone)
        terminated = time.monotonic()
        os.kill(old_master, signal.SIGTERM)
        backend.process.wait(timeout=args.drain + 60)
        notes.append(f"old master gone {time.monotonic() - terminated:.2f} s after TERM")
        time.sleep(args.settle)
    finally:
        load.stop()
        balancer.stop()
        stop_backend(backend)
        if new_master and alive(new_master):
            os.kill(new_master, signal.SIGINT)  # quick: the load is over
            wait_until(lambda: not alive(new_master), 60, "the new master to stop")
    return report("usr2", load, balancer, notes)


def scenario_rolling(args, make_backend) -> dict:
    backends = [make_backend(args.port), make_backend(args.port + 1)]
    for backend in backends:
        backend.start()
    balancer = Balancer([backend.port for backend in backends], args.probe_interval, args.unhealthy_after)
    load = Load(balancer, threads=args.threads, pause=args.pause)
    notes = []
    try:
        time.sleep(args.settle)
        for backend in backends:
            terminated = time.monotonic()
            backend.process.send_signal(signal.SIGTERM)
            backend.process.wait(timeout=args.drain + 60)
            stopped = time.monotonic()
            backend.start()
            wait_until(
                lambda port=backend.port: balancer.in_rotation[port], 30, "the balancer to take it back"
            )
            notes.append(
                f"port {backend.port}: exit {stopped - terminated:.2f} s after TERM, "
                f"back in rotation {time.monotonic() - stopped:.2f} s later"
            )
        time.sleep(args.settle)
    finally:
        load.stop()
        balancer.stop()
        for backend in backends:
            stop_backend(backend)
    return report("rolling", load, balancer, notes)


def stop_backend(backend: Backend) -> None:
    if backend.process and backend.process.poll() is None:
        backend.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            backend.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            backend.process.kill()
            backend.process.wait()


SCENARIOS = {"hup": scenario_hup, "usr2": scenario_usr2, "rolling": scenario_rolling}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--baseline", action="store_true", help="gunicorn as before the graceful path")
    parser.add_argument(
        "--workers", type=int, default=3, help="gunicorn workers per server (WEB_CONCURRENCY)"
    )
    parser.add_argument("--threads", type=int, default=6, help="concurrent clients")
    parser.add_argument("--pause", type=float, default=0.01, help="seconds between a client's requests")
    parser.add_argument("--drain", type=float, default=4.0, help="SHUTDOWN_DRAIN_SECONDS")
    parser.add_argument("--probe-interval", type=float, default=1.0)
    parser.add_argument("--unhealthy-after", type=int, default=2)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of load before and after")
    parser.add_argument("--port", type=int, default=8240, help="the first port (rolling uses two)")
    parser.add_argument("--database", default="gracefulbench")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--log-dir", help="keep gunicorn's logs here (default: a temporary directory)")
    args = parser.parse_args()

    with bench_database(args.database, cache_key_prefix=CACHE_KEY_PREFIX, keep=args.keep):
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings.base",
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            # Throttling stays on, its window short (DRF keeps each request's time in the window).
            "THROTTLE_ANON": "1000000/s",
            "WEB_CONCURRENCY": str(args.workers),
            "SHUTDOWN_DRAIN_SECONDS": str(args.drain),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("CELERY_BROKER_URL", None)  # the benchmark's in-memory broker: the servers use REDIS_URL's
        cache = "Redis" if settings.REDIS_URL else "local memory"
        mode = "baseline (gunicorn as before)" if args.baseline else "gunicorn.conf.py"
        print(
            f"{mode}; {args.workers} workers a server, {args.threads} clients pausing {args.pause} s, "
            f"probe every {args.probe_interval} s, out after {args.unhealthy_after} failed, "
            f"drain {args.drain} s; "
            f"PostgreSQL, cache {cache}"
        )
        with contextlib.ExitStack() as stack:
            log_dir = args.log_dir or stack.enter_context(
                tempfile.TemporaryDirectory(prefix="gracefulbench-")
            )
            Path(log_dir).mkdir(parents=True, exist_ok=True)

            def make_backend(port: int) -> Backend:
                return Backend(port=port, args=args, env=env, log_dir=Path(log_dir))

            names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
            for name in names:
                SCENARIOS[name](args, make_backend)


if __name__ == "__main__":
    main()
