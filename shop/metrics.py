"""``/metrics`` for Prometheus: open with DEBUG on, otherwise only with the METRICS_TOKEN bearer."""

import hmac

from django.conf import settings
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from shop.kernel.http.problems import problem_response


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
    return ExportToDjangoView(request)
