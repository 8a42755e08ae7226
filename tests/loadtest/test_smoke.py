"""
The load test's smoke run: the Locust scenarios (``loadtest/locustfile.py``, steady shape) for ten
seconds against a live stack the test starts on the test database: gunicorn with gunicorn.conf.py,
the Celery workers (``default,erp`` and the bulk queues ``prices,exports,housekeeping`` the staff
user's imports and exports need) and the ERP simulator, on a small demo catalog with stock.

Locust runs as a subprocess (its gevent monkey-patching has no place in pytest's process), with
the environment ``loadtest/run.py`` gives it. The test asserts what ``make loadtest`` promises in
small: every user class made requests, no request failed (no 5xx, no unexpected status), orders
were placed, and once the workers have drained the ERP hand-overs the invariants hold
(``loadtest.invariants.check``). It waits for events, never asserts durations; every wait is bounded.
"""

import ast
import csv
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from checkout.models import Order
from integrations.models import ErpHandover
from integrations.tasks.erp import erp_requeue_handovers
from loadtest import invariants, report
from shop.accounts import services as account_services
from shop.kernel.tasks import redeliver_outbox, relay_outbox
from tests.celery_worker import test_database_url, wait_for
from tests.integrations.erp_support import create_shipping_methods
from tests.shop.test_graceful_restart import Gunicorn

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"
USERS_FILE = ROOT / "loadtest" / "users.py"
PRODUCTS = 40
USERS = 12  # Staff (fixed_count 1) and 11 by weight: Browser 6, Shopper 3, Customer 2
RUN_SECONDS = 10
STAFF_EMAIL = "smoke-staff@example.com"
DRAIN_SECONDS = 120


def user_class_names() -> dict[str, set[str]]:
    """
    The endpoint names (as Locust's stats show them, ``/api/v1`` + ``name=``) each user class the
    locustfile runs requests, read from users.py's source (importing Locust here would monkey-patch
    this process): the ``name=`` string literals in the class's own body.
    """
    users_tree = ast.parse(USERS_FILE.read_text(encoding="utf-8"))
    locust_tree = ast.parse(LOCUSTFILE.read_text(encoding="utf-8"))
    run = {
        alias.asname or alias.name
        for node in ast.walk(locust_tree)
        if isinstance(node, ast.ImportFrom) and node.module == "loadtest.users"
        for alias in node.names
    }
    api = next(
        node.value.value
        for node in users_tree.body
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["API"]
    )
    names: dict[str, set[str]] = {}
    for cls in users_tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name in run:
            names[cls.name] = {
                api + constant.value
                for call in ast.walk(cls)
                # requests, not the checks a user reports itself (``events.request.fire``)
                if isinstance(call, ast.Call)
                and not (isinstance(call.func, ast.Attribute) and call.func.attr == "fire")
                for keyword in call.keywords
                if keyword.arg == "name"
                for constant in ast.walk(keyword.value)
                if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
            }
    return names


def own_names(names: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each class's names that no other class uses: a request under one is that class's."""
    return {
        cls: mine - set().union(*(theirs for other, theirs in names.items() if other != cls))
        for cls, mine in names.items()
    }


def test_the_user_classes_and_their_names_are_read_from_the_scenarios():
    names = user_class_names()

    assert set(names) == {"Browser", "Shopper", "Customer", "Staff"}
    assert all(own_names(names).values()), own_names(names)  # each class is recognisable in the stats
    assert "/api/v1/checkouts/[id]/complete/" in names["Customer"]
    assert "/api/v1/auth/token/ (staff)" in own_names(names)["Staff"]


def seed(staff_password: str) -> None:
    """A small demo catalog with stock, shipping methods and the staff user, as ``make loadtest`` seeds."""
    call_command("seed_demo", products=PRODUCTS, verbosity=0)
    create_shipping_methods()
    account_services.staff_user_ensure(email=STAFF_EMAIL, password=staff_password, check_password=False)


def run_locust(base: str, out: Path, staff_password: str) -> subprocess.CompletedProcess:
    """Locust headless for ``RUN_SECONDS`` with the environment ``loadtest.run.run_locust`` gives it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOADTEST_SHAPE": "steady",
        "LOADTEST_USERS": str(USERS),
        "LOADTEST_DURATION": str(RUN_SECONDS),
        "LOADTEST_CAMPAIGN": "smoke",
        "LOADTEST_STAFF_EMAIL": STAFF_EMAIL,
        "LOADTEST_STAFF_PASSWORD": staff_password,
        "LOADTEST_STAFF_PACING": "2",  # the staff user's imports, syncs and exports within the run
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
        "--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", f"{RUN_SECONDS}s",
        "--stop-timeout", "10", "--csv", str(out / "locust"), "--csv-full-history", "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_SECONDS + 120
    )


def failures(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def drained() -> bool:
    """Every paid order handed over: none waits for the relay, none for its delivery."""
    return not (
        Order.objects.filter(status=Order.Status.PAID).exists()
        or ErpHandover.objects.filter(
            status__in=(ErpHandover.Status.PENDING, ErpHandover.Status.IN_FLIGHT)
        ).exists()
    )


class Beat:
    """Plays beat while the test waits: the outbox sweeps and the hand-over sweep, every few seconds."""

    def __init__(self, every: float = 5.0):
        self.every, self.last = every, time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last >= self.every:
            relay_outbox.apply_async()
            redeliver_outbox.apply_async()
            erp_requeue_handovers.apply_async()
            self.last = time.monotonic()


@pytest.mark.postgres  # the catalog's full-text search, checkout's row locks
@pytest.mark.redis
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)  # gunicorn and the workers see the seeded data
def test_every_user_class_runs_against_a_live_stack_without_5xx_and_the_invariants_hold(
    tmp_path, erp_simulator, celery_worker
):
    staff_password = secrets.token_urlsafe(16)
    seed(staff_password)
    env = {"ERP_URL": erp_simulator.url}
    workers = [
        celery_worker(queues=["default", "erp"], env=env),
        celery_worker(queues=["prices", "exports", "housekeeping"], env=env),
    ]
    server = Gunicorn(tmp_path, **env)
    out = tmp_path / "run"
    out.mkdir()
    since = datetime.now(UTC)
    try:
        server.start()
        run = run_locust(f"http://127.0.0.1:{server.port}", out, staff_password)
        beat = Beat()
        drain = wait_for(lambda: beat() or drained(), seconds=DRAIN_SECONDS, interval=0.5)
    finally:
        server.stop()
    logs = "\n".join(
        [f"locust:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"]
        + [f"worker:\n{worker.log()[-3000:]}" for worker in workers]
        + [f"gunicorn:\n{server.log()[-3000:]}"]
    )

    endpoints, aggregate = report.read_endpoints(out / "locust_stats.csv")
    requested = {endpoint.name: endpoint.requests for endpoint in endpoints if endpoint.requests}
    silent = {
        cls: sorted(names)
        for cls, names in own_names(user_class_names()).items()
        if not names & set(requested)
    }
    assert silent == {}, f"user classes without a request: {silent}; requested: {requested}\n{logs}"
    assert aggregate is not None, logs
    assert report.count_server_errors(out / "locust_failures.csv") == 0, failures(out / "locust_failures.csv")
    assert failures(out / "locust_failures.csv") == [], logs  # 409s and 402s are expected, not failures
    assert aggregate.failures == 0
    assert run.returncode == 0, logs
    assert requested.get("/api/v1/checkouts/[id]/complete/", 0) > 0, requested
    placed = Order.objects.filter(created_at__gte=since).count()
    assert placed > 0, logs
    assert drain, f"hand-overs still waiting after {DRAIN_SECONDS} s\n{logs}"
    assert ErpHandover.objects.filter(status=ErpHandover.Status.DELIVERED).count() > 0
    violations = invariants.check(database_url=test_database_url(), erp_url=erp_simulator.url, since=since)
    assert violations == [], violations
