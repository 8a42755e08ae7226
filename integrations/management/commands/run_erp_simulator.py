"""
``manage.py run_erp_simulator``: serve the shipped ERP simulator (integrations/README.md) at the host
and port of ``ERP_URL``, the address the shop hands orders to (``--host``/``--port`` override).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations import erp_simulator


class Command(BaseCommand):
    help = "Serve the ERP simulator (POST/GET/DELETE /orders, GET/PUT /control) at ERP_URL until interrupted."

    def add_arguments(self, parser):
        erp_simulator.add_arguments(parser)
        url = urlsplit(settings.ERP_URL)
        parser.set_defaults(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 80),
        )

    def handle(self, *args, host, port, fail_rate, latency_ms, **options):
        erp_simulator.serve(host=host, port=port, fail_rate=fail_rate, latency_ms=latency_ms)
