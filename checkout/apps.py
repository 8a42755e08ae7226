from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Checkout sessions, shipping methods, payment, orders and idempotent completion."""

    name = "checkout"
    verbose_name = "Checkout and orders"

    def ready(self):
        from checkout import handlers  # noqa: F401 - subscribes to events
