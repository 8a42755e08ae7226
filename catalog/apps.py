from django.apps import AppConfig
from django.conf import settings
from django.core import checks


def check_shop_currency(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``SHOP_CURRENCY`` must be an ISO 4217 currency: prices and totals are read in it."""
    from shop.kernel.money import is_currency_code

    if is_currency_code(settings.SHOP_CURRENCY):
        return []
    return [
        checks.Error(
            f"SHOP_CURRENCY={settings.SHOP_CURRENCY!r} is not an ISO 4217 currency code.",
            hint="Set it to a code such as EUR, USD or BHD (upper case).",
            id="catalog.E001",
        )
    ]


class CatalogConfig(AppConfig):
    """Categories, products, variants, attributes, prices and search."""

    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from catalog import handlers  # noqa: F401  (subscribes the event handlers)

        checks.register(check_shop_currency)
