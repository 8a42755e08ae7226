from django.apps import AppConfig


class KernelConfig(AppConfig):
    """The shared kernel: money, the event base class, the outbox and the HTTP conventions."""

    name = "shop.kernel"
    label = "kernel"
    verbose_name = "Shared kernel"

    def ready(self):
        from shop.kernel import (
            checks,  # noqa: F401 - registers the system checks
            metrics,
        )

        metrics.connect_celery_signals()
