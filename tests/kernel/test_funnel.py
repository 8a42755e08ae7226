"""
The checkout funnel over the last hour (shop/kernel/funnel.py): beat's snapshots of the
cumulative counters against the counters now, resets counted from zero as Prometheus counts
them, only snapshots of the folder this process reads, and the operations page's window.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from shop.kernel import funnel, metrics
from shop.kernel.models import FunnelSnapshot

pytestmark = pytest.mark.django_db

KEY = ("checkout_started", "ok")


def stored(value: float) -> dict:
    return {"checkout_started|ok": value}


def test_increase_adds_the_gains_and_counts_a_drop_as_a_reset_to_zero():
    points = [{KEY: 5.0}, {KEY: 8.0}, {KEY: 2.0}, {KEY: 4.0, ("payment", "declined"): 1.0}]
    assert funnel.increase(points) == {KEY: 3.0 + 2.0 + 2.0, ("payment", "declined"): 1.0}


def test_the_last_hour_runs_from_the_snapshot_an_hour_old_to_the_counters_now():
    metrics.FUNNEL.labels(*KEY).inc(10)
    now_value = metrics.funnel_totals()[KEY]
    now = timezone.now()
    for minutes, value in ((150, now_value - 30), (90, now_value - 10), (50, now_value - 4)):
        FunnelSnapshot.objects.create(
            taken_at=now - timedelta(minutes=minutes), source=funnel.source(), totals=stored(value)
        )
    FunnelSnapshot.objects.create(  # another machine's folder: not comparable with this one
        taken_at=now - timedelta(minutes=70), source="elsewhere:/metrics", totals=stored(0)
    )

    window = funnel.over_window(now=now)

    assert window.since == now - timedelta(minutes=90)
    assert window.totals[KEY] == 10  # 6 until the newer snapshot, 4 since


def test_a_run_younger_than_the_window_counts_from_the_counters_start_through_its_resets():
    metrics.FUNNEL.labels(*KEY).inc(3)
    now_value = metrics.funnel_totals()[KEY]
    now = timezone.now()
    # Ten minutes ago the counter stood higher: the folder was emptied (a restart) since then.
    FunnelSnapshot.objects.create(
        taken_at=now - timedelta(minutes=10), source=funnel.source(), totals=stored(now_value + 7)
    )
    FunnelSnapshot.objects.create(
        taken_at=now - timedelta(minutes=5), source=funnel.source(), totals=stored(1)
    )

    window = funnel.over_window(now=now)

    assert window.since is None  # no snapshot an hour old: the counters since they started
    assert window.totals[KEY] == (now_value + 7) + 1 + (now_value - 1)


def test_without_a_snapshot_it_is_the_counters_since_their_start():
    metrics.FUNNEL.labels(*KEY).inc()
    window = funnel.over_window()
    assert window.since is None
    assert window.totals == metrics.funnel_totals()


def test_a_snapshot_stores_the_counters_and_drops_those_past_twice_the_window():
    now = timezone.now()
    old = FunnelSnapshot.objects.create(taken_at=now - timedelta(hours=3), source=funnel.source(), totals={})
    metrics.FUNNEL.labels(*KEY).inc()

    snapshot = funnel.take_snapshot(now=now)

    assert snapshot.totals["checkout_started|ok"] == metrics.funnel_totals()[KEY]
    assert snapshot.source == funnel.source()
    assert not FunnelSnapshot.objects.filter(pk=old.pk).exists()


def test_beat_takes_one_a_minute_on_the_housekeeping_queue():
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["funnel-snapshot"]
    assert entry["task"] == "shop.kernel.snapshot_funnel"
    assert entry["schedule"].run_every == timedelta(seconds=settings.FUNNEL_SNAPSHOT_SECONDS)
    route = current_app.amqp.router.route({}, "shop.kernel.snapshot_funnel")
    assert route["queue"].name == "housekeeping"
