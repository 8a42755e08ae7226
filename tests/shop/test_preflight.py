"""
``make run``'s ports: the ERP simulator listens where ``ERP_URL`` says, ``ERP_URL`` defaults to
``PORT`` + 99 under ``make run`` (``shop.preflight``), and a port that is taken stops the start
with a line naming it and the process that needs it, before honcho starts anything.
"""

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from shop.preflight import port_is_free
from tests.celery_worker import wait_for

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = "web: echo web=$PORT && sleep 1\nerp: echo erp=$ERP_URL && sleep 1\n"


def free_port(*, also_free_at: int = 0) -> int:
    """A port nothing listens on (and nothing at ``port + also_free_at`` either)."""
    while True:
        with closing(socket.socket()) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + also_free_at < 65536 and port_is_free("127.0.0.1", port + also_free_at):
            return port


@pytest.fixture
def listening():
    """``listening(port)``: another program holds ``port`` for the rest of the test."""
    sockets = []

    def hold(port: int) -> None:
        held = socket.socket()
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", port))
        held.listen()
        sockets.append(held)

    yield hold
    for held in sockets:
        held.close()


def environment(tmp_path, **env: str) -> dict[str, str]:
    """A clean environment: no ``.env``, no ``ERP_URL``, the virtualenv's programs on PATH."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "ENV_FILE": str(tmp_path / "absent.env"),
        "VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "true",
        **env,
    }


def preflight(tmp_path, *, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    """``python -m shop.preflight`` on a Procfile whose processes print their ports and exit."""
    procfile = tmp_path / "Procfile"
    procfile.write_text(PROCFILE)
    return subprocess.run(
        [sys.executable, "-m", "shop.preflight", str(procfile)],
        cwd=cwd,
        env=environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_simulator_command_serves_at_the_port_of_erp_url(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    simulator = subprocess.Popen(
        [sys.executable, "manage.py", "run_erp_simulator"],
        cwd=ROOT,
        env=environment(tmp_path, ERP_URL=url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/control", timeout=2) as response:  # noqa: S310 - local
                return response.status == 200 and "fail_rate" in json.load(response)
        except OSError:
            return False

    try:
        assert wait_for(answers, seconds=30)
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


def test_erp_url_defaults_to_port_plus_99_and_every_process_starts(tmp_path):
    port = free_port(also_free_at=99)

    result = preflight(tmp_path, PORT=str(port))

    assert result.returncode == 0, result.stderr
    assert f"web={port}" in result.stdout
    assert f"erp=http://127.0.0.1:{port + 99}" in result.stdout
    assert "The shop is ready" not in result.stdout  # nothing answered before the processes ended


def test_a_port_in_use_is_named_with_the_process_that_needs_it_and_nothing_starts(tmp_path, listening):
    port = free_port(also_free_at=99)
    listening(port)

    result = preflight(tmp_path, PORT=str(port))

    assert result.returncode == 1
    assert (
        f"make run: port {port} (127.0.0.1), which web needs, the web server (PORT), is in use"
        in result.stderr
    )
    assert "nothing was started" in result.stderr
    assert "web=" not in result.stdout and "erp=" not in result.stdout


def test_the_erp_port_of_a_second_make_run_is_named_too(tmp_path, listening):
    port = free_port(also_free_at=99)
    listening(port + 99)  # the first make run's ERP simulator

    result = preflight(tmp_path, PORT=str(port))

    assert result.returncode == 1
    assert (
        f"port {port + 99} (127.0.0.1), which erp needs, the ERP simulator (ERP_URL), is in use"
        in result.stderr
    )
    assert "web=" not in result.stdout


def test_an_erp_url_from_the_env_file_wins_and_a_remote_erp_gets_no_simulator(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ERP_URL=https://erp.example.com/api\n")

    result = preflight(tmp_path, PORT=str(free_port()), ENV_FILE=str(env_file))

    assert result.returncode == 0, result.stderr
    assert "https://erp.example.com/api (ERP_URL; the simulator is not started)" in result.stdout
    assert "web=" in result.stdout
    assert "erp=" not in result.stdout


def test_honcho_reads_no_env_file_of_its_own(tmp_path):
    """The environment wins over .env for the shop; honcho's own reading of .env would reverse that."""
    (tmp_path / ".env").write_text("PORT=1\n")  # where honcho looks by default: its working directory
    port = free_port(also_free_at=99)

    result = preflight(tmp_path, cwd=tmp_path, PORT=str(port), PYTHONPATH=str(ROOT))

    assert result.returncode == 0, result.stderr
    assert f"web={port}" in result.stdout


BANNER = "The shop is ready"


@pytest.mark.parametrize(("web_delay", "worker_delay"), [(3, 0.2), (0.2, 3)], ids=["web-last", "worker-last"])
def test_the_banner_comes_once_the_web_server_answers_and_after_the_workers_start_up(
    tmp_path, web_delay, worker_delay
):
    """
    The banner with the URLs is printed by the runner once /readyz answers 200 and the Celery
    workers printed their "ready." line, whichever comes last; never before.
    """
    site = tmp_path / "site"
    site.mkdir()
    (site / "readyz").write_text("ok")
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"web: sleep {web_delay} && echo listening && exec python -m http.server $PORT --bind 127.0.0.1 "
        f"--directory {site}\n"
        f"worker: sleep {worker_delay} && echo 'celery@test ready.' && exec sleep 60  # celery worker\n"
    )
    port = free_port()
    runner = subprocess.Popen(
        [sys.executable, "-m", "shop.preflight", str(procfile)],
        cwd=ROOT,
        env=environment(tmp_path, PORT=str(port), ERP_URL="https://erp.example.com"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(line.rstrip("\n") for line in runner.stdout))
    reader.start()
    try:
        # The banner's last line, then a moment: a Ctrl-C while honcho prints can break its print.
        last = "  ERP            https://erp.example.com"
        assert wait_for(lambda: any(line.startswith(last) for line in output[1:]), seconds=60)
        time.sleep(0.5)
    finally:
        runner.send_signal(signal.SIGINT)  # Ctrl-C: honcho stops every process
        try:
            runner.wait(timeout=30)
        finally:
            runner.kill()
            reader.join(timeout=30)

    banner_at = next(index for index, line in enumerate(output) if BANNER in line)
    # /readyz cannot answer before the web process said it starts listening.
    listening_at = next(index for index, line in enumerate(output) if "web.1    | listening" in line)
    worker_ready_at = next(index for index, line in enumerate(output) if "celery@test ready." in line)
    assert listening_at < banner_at and worker_ready_at < banner_at, "\n".join(output)
    assert sum(BANNER in line for line in output) == 1, "\n".join(output)
    banner = output[banner_at : banner_at + 6]
    assert f"  Shop API docs  http://127.0.0.1:{port}/api/docs/" in banner, "\n".join(output)
    assert f"  Readiness      http://127.0.0.1:{port}/readyz" in banner
