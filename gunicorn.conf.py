"""
gunicorn's settings for the shop's web server, read from environment variables.

    gunicorn --config gunicorn.conf.py --bind 0.0.0.0:8000 shop.wsgi:application

(docker-compose.yml, the Dockerfile and the README's "Running the parts yourself" run it so). The
README's "Deploys without dropped requests" says how the signals below serve a deploy:

TERM
    drain, then stop gracefully: for ``SHUTDOWN_DRAIN_SECONDS`` the server keeps serving every
    request while ``/readyz`` answers 503 (with ``Retry-After``), so that a load balancer probing
    readiness takes it out of rotation; then gunicorn's own graceful stop (the listening socket
    closes, the workers finish their requests in flight within ``graceful_timeout``). A second
    TERM ends the drain at once; INT and QUIT are gunicorn's quick shutdown. A master with a new
    master of its own (after USR2) does not drain: the new one serves the same socket.
HUP
    new workers with the reloaded configuration, the old ones stopped gracefully. With
    ``preload_app`` (the default here) the new workers are forks of the loaded master, ready in
    milliseconds, but they run the code the master loaded: HUP does not load new code.
USR2, then TERM to the old master
    the zero-downtime code reload: a new master (a fresh process that loads the new code) and its
    workers accept on the same socket beside the old ones; TERM to the old master once the new
    one runs (its pid is in the pidfile + ".2").
"""

import contextlib
import gc
import os
import signal
import tempfile
import time


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Worker processes (the sync worker: one request at a time each); WEB_CONCURRENCY is the usual name.
workers = _env_int("WEB_CONCURRENCY", 3)
# A worker silent for this long (a request stuck longer) is killed and replaced.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# Time the workers get to finish their requests in flight after TERM (or HUP, or a recycle), from
# the end of the drain; then they are killed. At least `timeout`, so that any request that may run
# gets to finish.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection is kept (gthread and async workers; sync closes each one).
# Behind a load balancer, longer than the balancer's own idle timeout, so that the balancer closes.
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after this many requests (plus up to the jitter, so that they do not all go
# at once): a bound on memory that a long-lived process gains and never returns. 0 turns it off.
# A replacement is not free (the old process's exit, a fork that copies the pages it writes, new
# connections): at 1,000 a worker under a campaign's catalog reads was replaced every two seconds,
# which cost the cached detail a fifth of its rate and doubled its p99, while a worker's memory
# stayed flat over 20,000 requests (docs/PERFORMANCE.md, the eighth round). So the bound is high.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
# Load the application in the master, then fork the workers: a new worker (HUP, a recycle, one
# that died) is ready at once instead of importing Django for a second or more, and the workers
# share the loaded code's memory. The price: HUP does not load new code (USR2 does, or a new
# container). GUNICORN_PRELOAD=false: HUP loads new code, and requests wait for the new workers'
# imports (gunicorn stops the old workers as soon as the new ones are forked, not ready).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no", "off")
# The access log (off unless --access-logfile or accesslog is given) and the error log go through a
# logger that redacts a guest's order token (`?token=`) and secret headers from each line, and
# writes JSON lines (an access line with its request id) when the shop's LOG_FORMAT is json.
logger_class = "shop.logs.GunicornLogger"
# The control socket (gunicorn 25+, `gunicornc`) is not used; its default path in $HOME would be
# shared by every gunicorn of one user.
control_socket_disable = True

# Seconds the server keeps serving after TERM while /readyz answers 503. More than a load balancer
# needs to take it out of rotation: probe interval x failures to go out, plus one probe's timeout.
SHUTDOWN_DRAIN_SECONDS = float(os.environ.get("SHUTDOWN_DRAIN_SECONDS", "15"))
# The file that tells the workers (shop/health.py) that the server drains: it exists while it does
# and holds the drain's end (epoch seconds). The master chooses its path and tells the workers
# through the environment, which they inherit when forked.
DRAINING_FILE_VARIABLE = "SHOP_DRAINING_FILE"


def on_starting(server):
    """
    Metrics: the folder of prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, by
    default VAR_DIR/metrics), in the environment the workers inherit; a previous run's files
    removed unless another process of the machine still writes there (shop/kernel/metrics_files.py).
    """
    from shop.kernel import metrics_files
    from shop.settings import metrics_directory

    metrics_files.prepare(metrics_directory())


def child_exit(server, worker):
    """Metrics: a worker exited (a recycle, a crash): its live gauges go, its counts stay in the sum."""
    from shop.kernel import metrics_files

    metrics_files.mark_process_dead(worker.pid)


def when_ready(server):
    """The master is ready (the app is loaded with preload_app): prepare the drain on TERM."""
    path = os.path.join(server.cfg.worker_tmp_dir or tempfile.gettempdir(), f"shop-draining-{os.getpid()}")
    _remove(path)  # left by an earlier master of this pid (a container restarted after a SIGKILL)
    os.environ[DRAINING_FILE_VARIABLE] = path
    server.shop_draining_file = path
    server.shop_drain_deadline = None
    drain_seconds = SHUTDOWN_DRAIN_SECONDS

    def handle_term():
        if server.shop_drain_deadline is not None or drain_seconds <= 0 or server.reexec_pid:
            raise StopIteration  # gunicorn's graceful stop (what its own handle_term does)
        deadline = time.time() + drain_seconds
        with open(f"{path}.new", "w", encoding="ascii") as file:
            file.write(f"{deadline:.3f}")
        os.replace(f"{path}.new", path)  # a worker reads the whole deadline or no file
        server.shop_drain_deadline = deadline
        server.log.info("Draining for %s s: /readyz answers 503, requests are still served", drain_seconds)
        # At the end of the drain the master sends itself the TERM that stops it; the signal goes
        # through gunicorn's own queue, so the master loop stays as it is meanwhile (workers that
        # exit are replaced, INT or QUIT still stop at once).
        signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
        signal.setitimer(signal.ITIMER_REAL, drain_seconds)

    # The master looks its signal handlers up by name on itself (handle_term for TERM).
    server.handle_term = handle_term
    if server.cfg.preload_app:
        _warm_up()
        # Objects that exist now stay out of the workers' garbage collection, which would
        # otherwise write to (and so copy) the memory the forks share with the master.
        gc.freeze()


def post_fork(server, worker):
    # The drain's alarm is the master's: a worker forked during the drain leaves it alone.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _trace_if_asked(server)


def _trace_if_asked(server):
    """OpenTelemetry in this worker, if the OTEL_* variables ask for it (shop/telemetry.py)."""
    from shop import telemetry

    if telemetry.setup("web") and server.cfg.preload_app:
        telemetry.instrument_loaded_handler(server.app.wsgi())  # loaded before the fork


def on_exit(server):
    _remove(getattr(server, "shop_draining_file", None))


def _warm_up():
    """
    Import in the master what a process would otherwise import on its first request (the URLconf
    and every view, the cache and database backends, DRF's classes), so that every fork has it:
    without, the first request of each new worker took about 0.5 s more (importing django-redis and
    redis, for one). Nothing connects here.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connections
    from django.urls import get_resolver
    from rest_framework.settings import api_settings

    get_resolver().url_patterns  # noqa: B018 - the property imports the URLconf
    for alias in settings.CACHES:
        caches[alias]
    for alias in settings.DATABASES:
        connections[alias]
    for name in api_settings.import_strings:
        getattr(api_settings, name)


def _remove(path):
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
