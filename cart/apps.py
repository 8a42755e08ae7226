from django.apps import AppConfig


class CartConfig(AppConfig):
    """Carts and their lines, anonymous by token or a customer's, merged on sign-in."""

    name = "cart"
    verbose_name = "Cart"
