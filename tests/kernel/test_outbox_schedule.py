"""The beat schedule that keeps the outbox flowing and small: the sweep and the purge."""

from datetime import timedelta

import pytest
from celery.schedules import schedule
from django.conf import settings
from django.utils import timezone

from shop.celery import app as celery_app
from shop.kernel import outbox, tasks
from shop.kernel.models import OutboxMessage
from tests.kernel.subscriber_tasks import OutboxProbe


def test_the_beat_schedule_sweeps_and_purges_the_outbox():
    entries = {entry["task"]: entry for entry in celery_app.conf.beat_schedule.values()}

    assert {"shop.kernel.relay_outbox", "shop.kernel.redeliver_outbox", "shop.kernel.purge_outbox"} <= set(
        entries
    )
    sweep = entries["shop.kernel.relay_outbox"]["schedule"]
    assert isinstance(sweep, schedule)
    assert sweep.run_every == timedelta(seconds=settings.OUTBOX_SWEEP_SECONDS)
    assert isinstance(entries["shop.kernel.purge_outbox"]["schedule"], schedule)
    # The names beat sends are those of the kernel's tasks.
    assert celery_app.tasks["shop.kernel.relay_outbox"].name == tasks.relay_outbox.name
    assert celery_app.tasks["shop.kernel.purge_outbox"].name == tasks.purge_outbox.name
    assert celery_app.tasks["shop.kernel.redeliver_outbox"].name == tasks.redeliver_outbox.name


def _row(
    label: str, *, occurred_days_ago: float, sent_days_ago: float | None, handled: bool = True
) -> OutboxMessage:
    now = timezone.now()
    sent_at = None if sent_days_ago is None else now - timedelta(days=sent_days_ago)
    return OutboxMessage.objects.create(
        event_type=OutboxProbe.event_type,
        version=OutboxProbe.version,
        payload=OutboxProbe(label=label).to_payload(),
        occurred_at=now - timedelta(days=occurred_days_ago),
        sent_at=sent_at,
        handled_at=sent_at if handled else None,
        check_at=None if handled else sent_at,
    )


@pytest.mark.django_db
def test_purge_deletes_only_handled_rows_older_than_the_retention(settings):
    settings.OUTBOX_RETENTION_DAYS = 7
    _row("sent long ago", occurred_days_ago=30, sent_days_ago=8)
    _row("sent lately", occurred_days_ago=30, sent_days_ago=6)
    _row("never handled", occurred_days_ago=30, sent_days_ago=20, handled=False)
    _row("never sent", occurred_days_ago=30, sent_days_ago=None)
    _row("new", occurred_days_ago=0, sent_days_ago=None)

    assert tasks.purge_outbox() == 1  # the beat task, run in-process, with the settings' retention

    remaining = set(OutboxMessage.objects.values_list("payload__label", flat=True))
    assert remaining == {"sent lately", "never handled", "never sent", "new"}

    assert outbox.purge(older_than=timedelta(days=1)) == 1
    remaining = set(OutboxMessage.objects.values_list("payload__label", flat=True))
    assert remaining == {"never handled", "never sent", "new"}

    # An unsent row, or one a subscriber never handled, is never purged, however old.
    assert outbox.purge(older_than=timedelta(0)) == 0
    assert OutboxMessage.objects.count() == 3
