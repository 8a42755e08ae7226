"""``manage.py run_erp_simulator --port 8099``: serve the shipped ERP simulator (API.md, "The ERP")."""

from django.core.management.base import BaseCommand

from integrations import erp_simulator


class Command(BaseCommand):
    help = "Serve the ERP simulator (POST/GET/DELETE /orders, GET/PUT /control) until interrupted."

    def add_arguments(self, parser):
        erp_simulator.add_arguments(parser)

    def handle(self, *args, host, port, fail_rate, latency_ms, **options):
        erp_simulator.serve(host=host, port=port, fail_rate=fail_rate, latency_ms=latency_ms)
