from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The outside world: ERP hand-over, price and product imports, stock sync, exports, the ERP simulator."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from integrations import handlers  # noqa: F401 - subscribes to events
        from integrations.metrics import HandoverCollector
        from shop.kernel.metrics import register_live_collector

        register_live_collector("integrations", HandoverCollector())
