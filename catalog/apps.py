from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products, variants, attributes, prices and search."""

    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from catalog import handlers  # noqa: F401  (subscribes the event handlers)
