from importlib import import_module

import pytest
from django.apps import apps

_shipping_data = import_module("checkout.migrations.0002_shipping_methods")


@pytest.fixture(autouse=True)
def shipping_methods(db):
    """The shipping methods of the data migration (a transactional test's flush removes them)."""
    _shipping_data.create(apps, None)
