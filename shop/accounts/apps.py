from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Customers' accounts: registration, bearer tokens, sign-in."""

    name = "shop.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from shop.accounts.rest_api import schema  # noqa: F401 - registers the OpenAPI extension
