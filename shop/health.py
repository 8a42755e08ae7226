"""
Liveness and readiness: ``/healthz`` while the process runs, ``/readyz`` when its dependencies
answer, its static files were collected and the server is not draining before it stops
(gunicorn.conf.py: TERM drains first), ``/healthz/workers`` while every queue is consumed.

A stopped worker does not make a web process unready: readiness tells a load balancer whether to
send this process requests, and checkout works without workers (events wait in the outbox). So
the workers have an endpoint of their own for monitoring, and their containers a health check
(``manage.py queue_health``) reading the same heartbeats.
"""

import logging
import math
import os
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shop.celery import app as celery_app
from shop.kernel import checks, heartbeats
from shop.kernel.http.problems import problem_response

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):
        # django-redis ignores errors on ordinary calls (the cache fails open), so ask Redis itself.
        client.get_client(write=True).ping()
        return
    cache.set("readyz", "ok", 5)
    if cache.get("readyz") != "ok":
        raise RuntimeError("the cache did not return what was stored")


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)


def check_static() -> None:
    # gunicorn runs no system checks: a server started without collectstatic is not ready.
    if checks.static_manifest_missing():
        raise RuntimeError("the static files were not collected (manage.py collectstatic)")


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker, "static": check_static}
# Set by gunicorn.conf.py in the master: a file that exists while the server drains and holds the
# drain's end (epoch seconds). The workers inherit the variable when they are forked.
DRAINING_FILE_VARIABLE = "SHOP_DRAINING_FILE"


def drain_seconds_left() -> float | None:
    """Seconds left of this server's drain before it stops; None when it does not drain."""
    path = os.environ.get(DRAINING_FILE_VARIABLE)
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as file:
            deadline = float(file.read())
    except (OSError, ValueError):
        return None
    return max(0.0, deadline - time.time())


@never_cache
@require_GET
def healthz(request):
    """200 while the process runs."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """
    200 when database, cache and broker answer and the static files were collected; else 503
    naming the failing ones. 503 at once while the server drains before it stops, so that a load
    balancer takes it out of rotation (the server keeps serving meanwhile).
    """
    seconds_left = drain_seconds_left()
    if seconds_left is not None:
        response = problem_response(503, "shutting_down", "Shutting down: send new requests elsewhere.")
        response["Retry-After"] = str(max(1, math.ceil(seconds_left)))
        return response
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            logger.warning("Readiness check %s failed: %s", name, exc)
            results[name] = f"unavailable: {type(exc).__name__}"
        else:
            results[name] = "ok"
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return problem_response(
            503, "service_unavailable", f"Unavailable: {', '.join(failing)}.", checks=results
        )
    return JsonResponse({"status": "ok", "checks": results})


@never_cache
@require_GET
def workers(request):
    """
    200 when every queue consumed a heartbeat within ``WORKER_HEARTBEAT_MAX_AGE_SECONDS``; else
    503 naming the queues no worker consumes (``shop.kernel.heartbeats``).
    """
    try:
        queues = heartbeats.report()
    except DatabaseError as exc:
        logger.warning("Worker health unknown: %s", exc)
        return problem_response(503, "service_unavailable", "Unavailable: database.")
    stale = [name for name, queue in queues.items() if queue["status"] != "ok"]
    if stale:
        max_age = settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS
        return problem_response(
            503,
            "service_unavailable",
            f"No worker consumed from {', '.join(stale)} within {max_age:g} s.",
            queues=queues,
        )
    return JsonResponse({"status": "ok", "queues": queues})
