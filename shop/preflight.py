"""
``python -m shop.preflight PROCFILE``: start ``make run``'s processes (honcho) once the ports they
listen on are known to be free, and print the banner with the URLs once the web server answers.

Under ``make run`` the web server listens on ``PORT`` (8000) and the ERP simulator on the port of
``ERP_URL``, whose default there is ``PORT`` + 99 (8099), so that a second ``make run`` with
another ``PORT`` uses other ports for both. ``ERP_URL`` set in the environment or in ``.env``
wins; when it points at another host (a real ERP) the simulator is not started. A port that is
taken stops the start with a line naming the port and the process that needs it, instead of
honcho starting everything and stopping it all again when one process cannot listen
(``Address already in use`` deep in its output).

The processes run under honcho's process manager in this process (what ``honcho start`` does),
which reads no ``.env`` of its own: its values would override the environment, while for the shop
the environment wins (the settings, and this module, read ``.env`` themselves). Its printer is
watched for the Celery workers' ``ready.`` lines, and a thread asks the web server's ``/readyz``:
the banner with the URLs is printed once the web server answers 200 and every worker has printed
its start-up lines (or ``WORKERS_GRACE_SECONDS`` after the web server answers, whichever is
first), so that it is the last thing on the screen of an idle ``make run``, not a line pushed off
it by the workers' banners before anything answers.
"""

import datetime
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from honcho.environ import expand_processes, parse_procfile
from honcho.manager import Manager
from honcho.printer import Message, Printer

from shop.kernel import metrics_files
from shop.settings import metrics_directory, read_env_file

DEFAULT_PORT = 8000
#: Under ``make run`` the ERP simulator listens on ``PORT`` + this, unless ``ERP_URL`` says otherwise.
ERP_PORT_OFFSET = 99
LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1"}  # noqa: S104 - names, not a binding
#: The banner waits this long at most, once the web server answers, for workers still starting.
WORKERS_GRACE_SECONDS = 30.0
#: A web server that answers /readyz, but not 200 (a dependency down), gets the banner after this.
NOT_READY_GRACE_SECONDS = 30.0
BANNER_NAME = "make run"


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (SO_REUSEADDR, as the servers bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def plan(environment: dict[str, str]) -> tuple[list[tuple[str, str, str, int]], bool]:
    """
    Give ``ERP_URL`` its default from ``PORT`` in ``environment``; return the ports to check as
    ``(process, what, host, port)`` and whether the ERP simulator is to run.
    """
    port = int(environment.setdefault("PORT", str(DEFAULT_PORT)))
    erp_url = environment.setdefault("ERP_URL", f"http://127.0.0.1:{port + ERP_PORT_OFFSET}")
    needs = [("web", "the web server (PORT)", "127.0.0.1", port)]
    erp = urlsplit(erp_url)
    simulator = erp.hostname in LOCAL_HOSTS
    if simulator:
        erp_port = erp.port or (443 if erp.scheme == "https" else 80)
        needs.append(("erp", "the ERP simulator (ERP_URL)", erp.hostname, erp_port))
    return needs, simulator


def problems(needs: list[tuple[str, str, str, int]]) -> list[str]:
    """A line for each port that two processes need, or that another program holds."""
    lines = []
    seen: dict[int, str] = {}
    for process, what, host, port in needs:
        if port in seen:
            lines.append(f"port {port} is needed by both {seen[port]} and {process}, {what}")
        elif not port_is_free(host, port):
            lines.append(f"port {port} ({host}), which {process} needs, {what}, is in use by another program")
        seen[port] = process
    return lines


def banner(environment: dict[str, str], *, simulator: bool, note: str = "") -> str:
    """The lines that tell where the shop answers (and the development staff user)."""
    base = f"http://127.0.0.1:{environment['PORT']}"
    erp = environment["ERP_URL"] + ("" if simulator else " (ERP_URL; the simulator is not started)")
    lines = [
        "",
        f"  The shop is ready{note}:",
        f"  Shop API docs  {base}/api/docs/",
        f"  Products       {base}/api/v1/catalog/products/",
        f"  Admin          {base}/admin/   (staff: admin@example.com / shop-admin)",
        f"  Readiness      {base}/readyz",
        f"  ERP simulator  {erp}" if simulator else f"  ERP            {erp}",
        "",
    ]
    return "\n".join(lines)


def celery_workers(procfile: dict[str, str]) -> set[str]:
    """The names of the ``procfile``'s processes (``name: command``) that are Celery workers."""
    return {name for name, command in procfile.items() if "celery" in command and " worker" in command}


class WatchingPrinter(Printer):
    """
    honcho's printer, which notes the processes that printed Celery's ``<host> ready.`` and prints
    the banner's lines as they are (no time and process prefix). A line that honcho's Ctrl-C
    handler prints while another is being printed waits for it (a write into the middle of a
    write raises, and honcho would stop without stopping its processes).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ready: set[str] = set()
        self._writing = False
        self._pending: list = []

    def write(self, message):
        if self._writing:
            self._pending.append(message)
            return
        self._writing = True
        try:
            self._write(message)
        finally:
            self._writing = False
        while self._pending:
            self.write(self._pending.pop(0))

    def _write(self, message):
        if message.name == BANNER_NAME:
            self.output.write(f"{message.data}\n")
            self.output.flush()
            return
        super().write(message)
        data = message.data.decode("utf-8", "replace") if isinstance(message.data, bytes) else message.data
        if message.name and " ready." in data:
            self.ready.add(message.name.rsplit(".", 1)[0])  # honcho's names: worker.1


def readiness(url: str) -> int | None:
    """The HTTP status of ``url`` (``/readyz``), or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def announce_when_ready(
    manager: Manager,
    printer: WatchingPrinter,
    *,
    url: str,
    workers: set[str],
    text: str,
    environment: dict[str, str],
    simulator: bool,
    interval: float = 0.5,
) -> None:
    """
    Wait until ``url`` answers 200 and every process of ``workers`` printed its start-up (see the
    module's docstring for the grace periods), then hand the banner to ``manager``'s printer.
    Returns without a banner if the processes stop first.
    """
    answered_at = None
    note = ""
    while manager.returncode is None:
        status = readiness(url)
        if status == 200:
            break
        if status is not None:
            answered_at = answered_at or time.monotonic()
            if time.monotonic() - answered_at > NOT_READY_GRACE_SECONDS:
                note = f" (but {url} answers {status}: a dependency is down)"
                break
        time.sleep(interval)
    deadline = time.monotonic() + WORKERS_GRACE_SECONDS
    while manager.returncode is None and not workers <= printer.ready and time.monotonic() < deadline:
        time.sleep(interval)
    if manager.returncode is not None:
        return
    if note:
        text = banner(environment, simulator=simulator, note=note)
    manager.events.put(
        Message(type="line", data=text, time=datetime.datetime.now(), name=BANNER_NAME, colour=None)
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m shop.preflight PROCFILE", file=sys.stderr)
        return 2
    procfile = Path(argv[0])
    read_env_file()
    environment = os.environ
    needs, simulator = plan(environment)
    found = problems(needs)
    if found:
        for line in found:
            print(f"make run: {line}.", file=sys.stderr)
        print(
            "make run: nothing was started. Stop what holds the port (`lsof -i :PORT` names it), or "
            "choose others: PORT=8100 make run serves on 8100 with the ERP simulator on 8199 "
            "(ERP_URL sets the simulator's address).",
            file=sys.stderr,
        )
        return 1
    processes = parse_procfile(procfile.read_text()).processes
    if simulator:
        print(f"  ERP simulator  {environment['ERP_URL']}", flush=True)
    else:
        erp_url = environment["ERP_URL"]
        print(f"  ERP            {erp_url} (ERP_URL; the simulator is not started)", flush=True)
        processes.pop("erp", None)
    metrics_files.prepare(metrics_directory())  # one folder for every process started here
    printer = WatchingPrinter(sys.stdout)
    manager = Manager(printer)
    port = int(environment["PORT"])
    for process in expand_processes(processes, port=port):
        env = {**environment, **process.env}
        manager.add_process(process.name, process.cmd, quiet=process.quiet, env=env)
    watcher = threading.Thread(
        target=announce_when_ready,
        args=(manager, printer),
        kwargs={
            "url": f"http://127.0.0.1:{port}/readyz",
            "workers": celery_workers(processes),
            "text": banner(environment, simulator=simulator),
            "environment": environment,
            "simulator": simulator,
        },
        daemon=True,
    )
    watcher.start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
