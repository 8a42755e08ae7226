"""The admin pages open for staff (a smoke test of every registered model's list and add pages)."""

import pytest
from django.contrib import admin

from tests.catalog.factories import sellable_product

pytestmark = pytest.mark.django_db


def test_every_admin_list_and_change_page_opens(admin_client):
    sellable_product()

    for model in admin.site._registry:
        opts = model._meta
        response = admin_client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, f"{opts.label} list: {response.status_code}"
        first = model.objects.first()
        if first is not None:
            response = admin_client.get(f"/admin/{opts.app_label}/{opts.model_name}/{first.pk}/change/")
            assert response.status_code == 200, f"{opts.label} change: {response.status_code}"
