"""
The peer lab (``../shared/bench``: the framework ceiling and django-oscar) driven by its own
scripts: ``make_*.sh`` to build it once into ``LAB`` (/tmp/lab), ``lib/server.sh`` to start and
stop its servers, ``lib/wrk.sh`` (which drains with ``lib/drain.sh``, runs wrk and records with
``lib/record.py``) and ``oscar/checkout_load.py``. Nothing of the lab is copied here; the commands
are the ones of ``run_ceiling.sh`` and ``run_oscar.sh``, one repetition at a time, so that the
benchmark can interleave them with the shop's.
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"
WRK = shutil.which("wrk") or "wrk"
PYTHON3 = shutil.which("python3") or "python3"  # the lab's scripts run with the system's Python


def command(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run``: every command of the benchmark (the lab's scripts, wrk, the shop's) goes here."""
    return subprocess.run(args, **kwargs)  # noqa: S603 - the benchmark's own commands, no shell


def find_lab_sources() -> Path | None:
    """``PEER_LAB``, else ``../shared/bench`` of the project (or of the worktree's parent)."""
    if os.environ.get("PEER_LAB"):
        return Path(os.environ["PEER_LAB"])
    for candidate in (ROOT.parent / "shared" / "bench", ROOT.parent.parent / "shared" / "bench"):
        if (candidate / "lib" / "wrk.sh").exists():
            return candidate
    return None


def wrk_script_failure(output: str) -> str | None:
    """
    What wrk printed before its run (``Running 15s test @ ...``): only a Lua error, after which wrk
    still runs, sending ``GET /`` instead of the script's requests. None when there is nothing.
    """
    head = output.split("Running ", 1)[0].strip()
    return head[:500] or None


@dataclass
class Lab:
    """The lab's sources, its build directory, the results file and the worker settings."""

    src: Path
    lab: Path
    results: Path
    mode: str = "sync"  # lib/server.sh: sync (WORKERS processes) or gthread (x 4 threads)
    workers: int = 5
    duration: int = 15
    connections: int = 32

    ceiling_port = 8001  # fixed by run_ceiling.sh / run_oscar.sh
    oscar_port = 8002

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LAB=str(self.lab),
            RESULTS=str(self.results),
            WORKERS=str(self.workers),
            DURATION=f"{self.duration}s",
            CONNS=str(self.connections),
        )
        env.update(extra)
        return env

    def sh(self, script: str, *args: str, **extra: str) -> None:
        command([BASH, str(self.src / script), *args], env=self.env(**extra), check=True)

    # --- build, servers -----------------------------------------------------------------------
    def built(self) -> bool:
        return all(
            (self.lab / path).exists()
            for path in (
                "venv-ceiling/bin/gunicorn",
                "ceiling/manage.py",
                "venv-oscar/bin/gunicorn",
                "oscar/manage.py",
            )
        )

    def build(self, log=print) -> None:
        """The lab's make_ceiling.sh and make_oscar.sh (from PyPI), unless already built in LAB."""
        if self.built():
            log(f"peer lab already built in {self.lab} (remove it to rebuild)")
            return
        self.lab.mkdir(parents=True, exist_ok=True)
        for script in ("ceiling/make_ceiling.sh", "oscar/make_oscar.sh"):
            log(f"building the peer lab: bash {self.src / script}")
            self.sh(script)

    @property
    def ceiling(self) -> str:
        return f"http://127.0.0.1:{self.ceiling_port}"

    @property
    def oscar(self) -> str:
        return f"http://127.0.0.1:{self.oscar_port}"

    def start(self) -> None:
        """Both servers (lib/server.sh) and the warm-ups of run_ceiling.sh and run_oscar.sh (unrecorded)."""
        self.sh(
            "lib/server.sh",
            "start",
            "ceiling",
            str(self.lab / "ceiling"),
            str(self.lab / "venv-ceiling"),
            "ceiling.wsgi",
            str(self.ceiling_port),
            self.mode,
        )
        self.sh(
            "lib/server.sh",
            "start",
            "oscar",
            str(self.lab / "oscar"),
            str(self.lab / "venv-oscar"),
            "labshop.wsgi",
            str(self.oscar_port),
            self.mode,
        )
        lua = str(self.src / "wrk" / "random_product.lua")
        for args in (
            [f"{self.ceiling}/ping/"],
            ["-s", lua, self.ceiling],
            ["-s", lua, self.oscar],
        ):
            command([WRK, "-t2", "-c32", "-d3s", *args], check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        for name in ("ceiling", "oscar"):
            command([BASH, str(self.src / "lib/server.sh"), "stop", name], env=self.env(), check=False)

    # --- one repetition of a measurement --------------------------------------------------------
    def wrk(self, name: str, rep: int, url: str, lua: str = "", **extra: str) -> None:
        """
        lib/wrk.sh NAME REP URL [LUA]: drain, wrk -t2 -cCONNS -dDURATION --latency, record. A Lua
        script that fails to load leaves wrk sending GET / (which would be recorded as a success):
        the run stops instead.
        """
        args = [name, str(rep), url] + ([lua] if lua else [])
        self.sh("lib/wrk.sh", *args, **extra)
        out = self.lab / "wrk" / f"{name.replace(' ', '_').replace('/', '_')}-r{rep}.out"
        failure = wrk_script_failure(out.read_text(encoding="utf-8", errors="replace"))
        if failure:
            raise SystemExit(f"wrk {name}: the script failed, see {out}:\n{failure}")

    def peer_wrk(self, name: str, rep: int, url: str, lua: str = "", **extra: str) -> None:
        """A peer's measurement: the name carries the worker mode, as run_*.sh's do."""
        self.wrk(f"{name} {self.mode}", rep, url, lua, **extra)

    def ceiling_ping(self, rep: int) -> None:
        self.peer_wrk("ceiling json-noDB", rep, f"{self.ceiling}/ping/", DRAIN_URL=f"{self.ceiling}/ping/")

    def ceiling_list(self, rep: int) -> None:
        self.peer_wrk(
            "ceiling DRF list-20",
            rep,
            self.ceiling,
            str(self.src / "wrk/random_product.lua"),
            DRAIN_URL=f"{self.ceiling}/ping/",
            PATH_FMT="/api/products/?limit=20&offset=%d",
            ID_MIN="0",
            ID_MAX="9980",
        )

    @property
    def _oscar_drain(self) -> str:
        return f"{self.oscar}/api/products/1/price/"

    def oscar_list(self, rep: int) -> None:
        self.peer_wrk(
            "oscar list-20",
            rep,
            self.oscar,
            str(self.src / "wrk/random_product.lua"),
            DRAIN_URL=self._oscar_drain,
            PATH_FMT="/api/products/?limit=20&offset=%d",
            ID_MIN="0",
            ID_MAX="9980",
        )

    def oscar_basket_add(self, rep: int, run_id: str) -> None:
        self.peer_wrk(
            "oscar basket add",
            rep,
            self.oscar,
            str(self.src / "wrk/oscar_basket_add.lua"),
            DRAIN_URL=self._oscar_drain,
            BASE=self.oscar,
            RUNID=run_id,
        )

    def oscar_checkout(self, rep: int, *, prefill: int = 0) -> float:
        """checkout_load.py, 8 threads: the whole flow, or (prefill N) completions of prefilled baskets."""
        kind = f"prefilled_{self.mode}" if prefill else self.mode
        out = self.lab / "wrk" / f"oscar_checkout_{kind}-r{rep}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        command([BASH, str(self.src / "lib/drain.sh"), self._oscar_drain], check=True)
        args = ["--base", self.oscar, "--threads", "8", "--duration", str(self.duration), "--out", str(out)]
        if prefill:
            args += ["--prefill", str(prefill)]
        command(
            [str(self.lab / "venv-oscar/bin/python"), str(self.src / "oscar/checkout_load.py"), *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        name = (
            f"oscar checkout-only (prefilled) {self.mode}" if prefill else f"oscar checkout flow {self.mode}"
        )
        cmd = f"python oscar/checkout_load.py --threads 8 --duration {self.duration}" + (
            f" --prefill {prefill}" if prefill else ""
        )
        record(self.src, self.results, "py", name, rep, cmd, out)
        return float(json.loads(out.read_text(encoding="utf-8"))["rate"])


def record(src: Path, results: Path, kind: str, name: str, rep: int, cmd: str, out: Path) -> None:
    """lib/record.py KIND NAME REP CMD OUT: one JSON line appended to ``results`` (and printed)."""
    command(
        [PYTHON3, str(src / "lib/record.py"), kind, name, str(rep), cmd, str(out)],
        env={**os.environ, "RESULTS": str(results)},
        check=True,
    )
