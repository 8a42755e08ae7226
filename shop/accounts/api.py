"""Accounts' public functions. Other contexts know a customer by id (``request.user.pk``)."""

from shop.accounts import selectors
from shop.accounts.data import Customer


def get_customer(*, customer_id: int) -> Customer | None:
    """The active customer with ``customer_id``, or None (checkout prefills the e-mail from it)."""
    user = selectors.active_user(customer_id)
    return Customer(id=user.pk, email=user.email) if user else None
