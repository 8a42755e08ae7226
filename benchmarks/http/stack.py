"""
The shop's production-like stack on loopback, for the benchmark: PostgreSQL database ``DB`` (reused
when it holds the catalog asked for), Redis db 13, gunicorn with ``gunicorn.conf.py``, one Celery
worker (queues default,erp) and the ERP simulator, all in production settings (DEBUG off).
"""

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.http.lab import command

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"


@dataclass
class ShopStack:
    """Settings of the stack and the processes it started."""

    database: str = "shop_bench"
    pg_server: str = "postgres://postgres@127.0.0.1:5432"
    redis_url: str = "redis://127.0.0.1:6379/13"
    port: int = 8300
    erp_port: int = 8399
    workers: int = 5
    threads: int = 1
    celery_concurrency: int = 2
    work_dir: Path = Path("/tmp/shopbench")  # noqa: S108 - a loopback benchmark's scratch
    # Settings and processes a user of this stack adds (the load test: its token, campaigns, the bulk
    # worker and beat); the benchmark adds none.
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_commands: dict[str, list[str]] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Production settings (DEBUG off) on the benchmark's database, Redis db and ports."""
        key_file = self.work_dir / "secret_key"
        if not key_file.exists():
            self.work_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(50), encoding="ascii")
        env = dict(os.environ)
        env.update(
            ENV_FILE="",  # no .env: only what is set here
            DEBUG="false",
            SECRET_KEY=key_file.read_text(encoding="ascii"),
            DATABASE_URL=f"{self.pg_server}/{self.database}",
            REDIS_URL=self.redis_url,
            VAR_DIR=str(self.work_dir / "var"),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            ERP_URL=f"http://127.0.0.1:{self.erp_port}",
            # The rate throttles stay on (their cost is measured) with limits no run reaches: one
            # client address sends every request here.
            THROTTLE_ANON="100000000/min",
            THROTTLE_USER="100000000/min",
            # No TLS-terminating proxy in front: no redirect to https (the peers have none either).
            SECURE_SSL_REDIRECT="false",
            # Cached details outlive the run (300 s by default; the detail row measures the cache).
            CATALOG_CACHE_SECONDS="3600",
            # No load balancer to take the server out of rotation: stop without the 15-s drain.
            SHUTDOWN_DRAIN_SECONDS="0",
            WEB_CONCURRENCY=str(self.workers),
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, capture: bool = False) -> str:
        """Run ``manage.py`` with the stack's settings; its output if ``capture``."""
        result = command(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            check=True,
            text=True,
            stdout=subprocess.PIPE if capture else None,
        )
        return result.stdout or ""

    def data(self, *args: str) -> dict:
        """``benchmarks.http.shop_data`` in the stack's settings: its JSON answer."""
        out = command(
            [PYTHON, "-m", "benchmarks.http.shop_data", *args],
            cwd=ROOT,
            env=self.env(),
            check=True,
            text=True,
            stdout=subprocess.PIPE,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    def _psql_admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg_server}/postgres", autocommit=True) as conn:
            conn.execute(statement)

    def _database_exists(self) -> bool:
        import psycopg

        with psycopg.connect(f"{self.pg_server}/postgres") as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
                is not None
            )

    def check_database_name(self) -> None:
        """Refuse a database that is not the benchmark's (it may be dropped and seeded afresh)."""
        if not (self.database == "shop_bench" or self.database.startswith("shopbench_")):
            raise SystemExit(
                f"database {self.database!r}: only shop_bench or shopbench_* are the benchmark's"
            )

    def prepare_database(self, *, products: int, reseed: bool, log=print) -> None:
        """
        Collect static files, migrate and seed ``products`` demo products with stock, unless the
        database already holds exactly that many products (then it is reused) and no ``reseed``.
        """
        self.check_database_name()
        self.manage("collectstatic", "--no-input", "-v", "0")  # shop.E001 refuses every command before
        if self._database_exists() and not reseed:
            self.manage("migrate", "--no-input", "-v", "0")
            found = self.data("state")["products"]
            if found == products:
                log(f"reusing database {self.database} ({found:,} products; RESEED=1 to seed afresh)")
                return
            log(f"database {self.database} has {found:,} products, not {products:,}: seeding afresh")
        if self._database_exists():
            self._psql_admin(f'DROP DATABASE "{self.database}" WITH (FORCE)')
        self._psql_admin(f'CREATE DATABASE "{self.database}"')
        self.manage("migrate", "--no-input", "-v", "0")
        started = time.monotonic()
        self.manage("seed_demo", "--products", str(products), "-v", "0")
        self.manage("shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
        log(f"seeded {products:,} products with demo stock in {time.monotonic() - started:.1f} s")

    def flush_redis(self) -> None:
        """Empty the benchmark's Redis database (cache, throttles, broker): nothing stale from a past run."""
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def start(self) -> None:
        """gunicorn (gunicorn.conf.py), the Celery worker and the ERP simulator; wait for /readyz."""
        logs = self.work_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = self.env()
        gunicorn = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
        if self.threads > 1:
            gunicorn += ["--worker-class", "gthread", "--threads", str(self.threads)]
        commands = {
            "erp": [PYTHON, "manage.py", "run_erp_simulator", "--port", str(self.erp_port)],
            "worker": [
                str(BIN / "celery"),
                "-A",
                "shop",
                "worker",
                "--loglevel",
                "WARNING",
                "--queues",
                "default,erp",
                "--concurrency",
                str(self.celery_concurrency),
                "--hostname",
                f"bench{self.port}@%h",
            ],
            **self.extra_commands,
            "web": [*gunicorn, "shop.wsgi:application"],
        }
        for name, args in commands.items():
            with (logs / f"{name}.log").open("ab") as log_file:
                self.processes[name] = subprocess.Popen(  # noqa: S603 - the stack's own commands
                    args,
                    cwd=ROOT,
                    env=env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise SystemExit(f"shop {name} exited ({process.returncode}); see {logs}/{name}.log")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response,  # noqa: S310 - loopback
            ):
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise SystemExit(f"shop /readyz not 200 within 60 s; see {logs}")

    def stop(self) -> None:
        """TERM to each process this stack started (by its own pid), then wait for them."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                print(f"shop {name} did not stop in 40 s: KILL", file=sys.stderr)
                process.kill()
        self.processes.clear()

    def worker_backlog(self) -> int:
        """Messages the Celery worker has still to handle: queued on default and erp, and unacknowledged."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        queued = 0
        for queue in ("default", "erp"):
            for key in client.scan_iter(match=f"{queue}*", count=1000):
                if client.type(key) == b"list":
                    queued += client.llen(key)
        return queued + client.hlen("unacked")

    def drain_worker(self, *, timeout: float = 180, log=print) -> float:
        """Wait until the worker's backlog is empty twice in a row (the last run's events); seconds waited."""
        started = time.monotonic()
        empty = 0
        while time.monotonic() - started < timeout:
            empty = empty + 1 if self.worker_backlog() == 0 else 0
            if empty >= 2:
                return time.monotonic() - started
            time.sleep(0.5)
        log(f"worker backlog not empty after {timeout:.0f} s: {self.worker_backlog()} messages")
        return time.monotonic() - started
