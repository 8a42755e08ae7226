"""
``python -m shop.preflight PROCFILE``: start ``make run``'s processes (honcho) once the ports they
listen on are known to be free.

Under ``make run`` the web server listens on ``PORT`` (8000) and the ERP simulator on the port of
``ERP_URL``, whose default there is ``PORT`` + 99 (8099), so that a second ``make run`` with
another ``PORT`` uses other ports for both. ``ERP_URL`` set in the environment or in ``.env``
wins; when it points at another host (a real ERP) the simulator is not started. A port that is
taken stops the start with a line naming the port and the process that needs it, instead of
honcho starting everything and stopping it all again when one process cannot listen
(``Address already in use`` deep in its output).

honcho is told to read no ``.env`` (``-e /dev/null``): its values would override the environment,
while for the shop the environment wins (the settings, and this module, read ``.env`` themselves).
"""

import os
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from shop.kernel import metrics_files
from shop.settings import metrics_directory, read_env_file

DEFAULT_PORT = 8000
#: Under ``make run`` the ERP simulator listens on ``PORT`` + this, unless ``ERP_URL`` says otherwise.
ERP_PORT_OFFSET = 99
LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1"}  # noqa: S104 - names, not a binding


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


def procfile_processes(procfile: Path) -> list[str]:
    """The process names of ``procfile`` (``name: command`` lines), in order."""
    names = []
    for line in procfile.read_text().splitlines():
        name, colon, _command = line.partition(":")
        if colon and name.strip() and not name.lstrip().startswith("#"):
            names.append(name.strip())
    return names


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
    processes = procfile_processes(procfile)
    if simulator:
        print(f"  ERP simulator  {environment['ERP_URL']}", flush=True)
    else:
        erp_url = environment["ERP_URL"]
        print(f"  ERP            {erp_url} (ERP_URL; the simulator is not started)", flush=True)
        processes = [name for name in processes if name != "erp"]
    metrics_files.prepare(metrics_directory())  # one folder for every process started here
    honcho = shutil.which("honcho") or "honcho"
    command = [honcho, "-e", os.devnull, "-f", str(procfile), "start", *processes]
    os.execvpe(command[0], command, environment)  # noqa: S606 - honcho, with the arguments above
    return 0  # not reached: exec replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
