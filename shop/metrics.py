"""
``/metrics`` for Prometheus: open with DEBUG on, otherwise only with the METRICS_TOKEN bearer.

It serves the sum over every process of the machine (prometheus-client's multiprocess mode:
gunicorn's or runserver's, and the Celery workers' with the same ``PROMETHEUS_MULTIPROC_DIR``)
and the gauges computed at scrape time (``shop.kernel.metrics.scrape_registry``).
"""

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shop.kernel.http.problems import problem_response
from shop.kernel.metrics import scrape_registry


@never_cache
def metrics(request):
    """Prometheus text format, guarded by ``METRICS_TOKEN`` outside development."""
    if not settings.DEBUG:
        expected = settings.METRICS_TOKEN
        given = request.headers.get("Authorization", "")
        if not expected:
            return problem_response(403, "permission_denied", "Metrics are disabled: set METRICS_TOKEN.")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            return problem_response(401, "not_authenticated", "A valid metrics bearer token is required.")
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
