from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Warehouses, stock levels, reservations with expiry and the stock-movement ledger."""

    name = "inventory"
    verbose_name = "Inventory"
