"""
gunicorn with the project's gunicorn.conf.py under a small load: a reload (HUP, or USR2 and TERM
to the old master) loses no request; TERM first drains (``/readyz`` answers 503 while requests
are still served), then stops gracefully, finishing the requests in flight.

Each test starts gunicorn on the test database (PostgreSQL: the workers and this process use it
at once) on a port the OS chooses, and stops it at the end. The load is a few threads; the tests
wait for counts of answered requests, never for durations.
"""

import http.client
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings

from tests.celery_worker import test_database_url, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
LOAD_PATHS = ("/healthz", "/api/v1/catalog/categories/")
WORKERS = 2
DRAIN_SECONDS = 5  # long enough for the load to see the drain (the test waits for events, not for time)
READY_SECONDS = 60


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (a master's workers), from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.add(int(entry.name))
    return found


def request(port: int, path: str) -> tuple[int | str, dict]:
    """``GET path``: (status, headers), or (the error's name, {}) without an answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, {}
    finally:
        connection.close()


class Gunicorn:
    """``gunicorn --config gunicorn.conf.py shop.wsgi:application`` on a port the OS chooses."""

    def __init__(self, tmp_path: Path, **env: str):
        self.log_path = tmp_path / "gunicorn.log"
        self.pidfile = tmp_path / "gunicorn.pid"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VAR_DIR": str(settings.VAR_DIR),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "false",
            "CONN_MAX_AGE": "0",
            "WEB_CONCURRENCY": str(WORKERS),
            "SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self) -> "Gunicorn":
        command = [
            str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py",
            "shop.wsgi:application", "--bind", "127.0.0.1:0", "--pid", str(self.pidfile),
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        assert wait_for(self._listening, seconds=READY_SECONDS), f"no port:\n{self.log()}"
        ready = wait_for(lambda: request(self.port, "/readyz")[0] == 200, seconds=READY_SECONDS)
        assert ready, f"not ready:\n{self.log()}"
        return self

    def _listening(self) -> bool:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
        if match:
            self.port = int(match.group(1))
        return bool(match) or self.process.poll() is not None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Load:
    """A few threads sending requests to ``port`` until stopped; every answer is recorded."""

    def __init__(self, port: int, threads: int = 4):
        self.port = port
        self.answers: list[int | str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def _run(self, number: int) -> None:
        for path in itertools.islice(itertools.cycle(LOAD_PATHS), number % len(LOAD_PATHS), None):
            if self._stop.is_set():
                return
            self.answers.append(request(self.port, path)[0])
            self._stop.wait(0.005)

    def answered(self) -> int:
        return len(self.answers)

    def wait_for_more(self, count: int) -> None:
        """Wait until ``count`` more requests have been answered."""
        target = self.answered() + count
        assert wait_for(lambda: self.answered() >= target, seconds=60), f"load stuck at {self.answered()}"

    def stop(self) -> list[int | str]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        return self.answers

    def failures(self) -> list[int | str]:
        return [answer for answer in self.answers if not isinstance(answer, int) or answer >= 500]


@pytest.fixture
def gunicorn(tmp_path):
    started: list[Gunicorn] = []

    def start(**env: str) -> Gunicorn:
        server = Gunicorn(tmp_path, **env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def test_hup_reload_under_load_loses_no_request(gunicorn):
    server = gunicorn()
    master = server.process.pid
    old_workers = children(master)
    load = Load(server.port)
    try:
        load.wait_for_more(50)
        os.kill(master, signal.SIGHUP)
        replaced = wait_for(
            lambda: len(children(master)) == WORKERS and not children(master) & old_workers, seconds=60
        )
        assert replaced, f"the workers were not replaced:\n{server.log()}"
        load.wait_for_more(50)
    finally:
        answers = load.stop()

    assert load.failures() == []
    assert len(answers) >= 100
    assert set(answers) == {200}


def test_usr2_then_term_to_the_old_master_loses_no_request(gunicorn):
    server = gunicorn()
    old_master = server.process.pid
    old_workers = children(old_master)
    load = Load(server.port)
    new_master = None
    try:
        load.wait_for_more(50)
        os.kill(old_master, signal.SIGUSR2)

        def new_master_with_workers() -> bool:
            nonlocal new_master
            # With preload_app the new master has loaded the application before it forks.
            for pid in children(old_master) - old_workers:
                if len(children(pid)) == WORKERS:
                    new_master = pid
                    return True
            return False

        assert wait_for(new_master_with_workers, seconds=60), f"no new master:\n{server.log()}"
        load.wait_for_more(20)
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=60)
        load.wait_for_more(50)  # the new master's workers alone
    finally:
        answers = load.stop()
        if new_master:
            os.kill(new_master, signal.SIGINT)
            wait_for(lambda: not Path(f"/proc/{new_master}").exists(), seconds=30)

    assert server.process.returncode == 0
    assert "Draining" not in server.log()  # the new master serves the socket: nothing to drain
    assert load.failures() == []
    assert len(answers) >= 120
    assert set(answers) == {200}


def test_term_drains_with_readyz_503_then_finishes_requests_in_flight(gunicorn):
    server = gunicorn()
    load = Load(server.port)
    load.wait_for_more(50)

    server.process.send_signal(signal.SIGTERM)
    readiness: list = []

    def not_ready() -> bool:
        readiness.append(request(server.port, "/readyz"))
        return readiness[-1][0] != 200

    assert wait_for(not_ready, seconds=30)
    status, headers = readiness[-1]
    load.wait_for_more(50)  # served while draining
    # A request in flight when the drain ends: its connection accepted, half of it sent.
    in_flight = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    in_flight.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    answers = load.stop()  # the load balancer has stopped sending
    # The drain ends with the master's second TERM: its listening socket closes, the workers are
    # told to stop (the idle one exits, the busy one finishes its request first).
    assert wait_for(lambda: server.log().count("Handling signal: term") == 2, seconds=30), server.log()
    assert wait_for(lambda: "Worker exiting" in server.log().split("Handling signal: term")[2], seconds=30)
    in_flight.sendall(b"\r\n")
    reply = in_flight.makefile("rb").read()
    in_flight.close()
    server.process.wait(timeout=60)

    assert status == 503, readiness
    assert headers["Content-Type"] == "application/problem+json"
    assert int(headers["Retry-After"]) >= 1
    assert load.failures() == []
    assert len(answers) >= 100
    assert reply.startswith(b"HTTP/1.1 200 "), reply
    assert server.process.returncode == 0
    assert "Draining for" in server.log()
