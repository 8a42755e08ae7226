"""Retention: anonymous carts nobody came back to are deleted; customers' carts are kept."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cart import services
from cart.models import Cart, CartLine
from cart.tasks import purge_stale_carts
from tests.cart.conftest import add, new_cart, product

DAYS_30 = datetime.timedelta(days=30)


def age(token, days: int) -> None:
    """Let the cart ``token`` have been last touched ``days`` ago."""
    Cart.objects.filter(token=token).update(updated_at=timezone.now() - datetime.timedelta(days=days))


def carts() -> set[str]:
    return {str(token) for token in Cart.objects.values_list("token", flat=True)}


@pytest.mark.django_db
class TestPurge:
    def test_stale_anonymous_carts_go_with_their_lines(self, api_client, customer):
        product("R-1")
        stale, fresh = new_cart(api_client), new_cart(api_client)
        add(api_client, stale, "R-1", 2)
        ada = customer()
        kept = new_cart(ada)
        age(stale, 31)
        age(fresh, 29)
        age(kept, 400)  # a customer's cart, however old

        assert services.carts_purge_stale(older_than=DAYS_30) == 1

        assert carts() == {fresh, kept}
        assert not CartLine.objects.filter(cart__token=stale).exists()
        assert api_client.get(f"/api/v1/carts/{stale}/").status_code == 404

    def test_a_cart_used_again_is_not_stale(self, api_client):
        product("R-2")
        token = new_cart(api_client)
        age(token, 40)
        add(api_client, token, "R-2")  # touches it

        assert services.carts_purge_stale(older_than=DAYS_30) == 0
        assert carts() == {token}

    def test_batches_and_the_limit(self, api_client):
        tokens = [new_cart(api_client) for _ in range(5)]
        for token in tokens:
            age(token, 60)

        assert services.carts_purge_stale(older_than=DAYS_30, batch_size=2, limit=3) == 3
        assert len(carts()) == 2
        assert services.carts_purge_stale(older_than=DAYS_30, batch_size=2) == 2
        assert carts() == set()

    def test_the_task_uses_cart_retention_days(self, api_client, settings):
        settings.CART_RETENTION_DAYS = 10
        old, young = new_cart(api_client), new_cart(api_client)
        age(old, 11)
        age(young, 9)

        assert purge_stale_carts() == 1
        assert carts() == {young}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cart_in_use_is_skipped_not_waited_for(api_client):
    busy, idle = new_cart(api_client), new_cart(api_client)
    age(busy, 60)
    age(idle, 60)
    locked, release = threading.Event(), threading.Event()

    def hold_the_cart() -> None:  # a request working on the cart: it holds the cart's row lock
        try:
            with transaction.atomic():
                Cart.objects.select_for_update().get(token=busy)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_cart)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert services.carts_purge_stale(older_than=DAYS_30) == 1
        assert carts() == {busy}
    finally:
        release.set()
        holder.join(timeout=30)


def test_beat_runs_the_purge_hourly(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "cart.purge_stale_carts")
    assert entry["schedule"].run_every == datetime.timedelta(hours=1)
