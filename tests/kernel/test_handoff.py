"""
The hand-off to the workers (``shop.kernel.handoff``): a task sent by name to the queue its name
is routed to, after the commit only, and a broker that is down logged, never raised.
"""

import datetime
import logging
import time

import pytest
from django.db import transaction

from shop.kernel import handoff
from tests.kernel.brokers import intercept

TASK = "tests.kernel.handoff_probe"  # routed to the outbox tests' queue (shop/settings/test.py)


class Abort(Exception):
    pass


@pytest.mark.redis
def test_a_task_is_sent_by_name_to_the_queue_its_name_is_routed_to(probe_queue):
    assert handoff.send(TASK, args=["a"], kwargs={"b": 2}, unsent="not sent") is True

    assert probe_queue.drain() == [(TASK, {"b": 2})]


@pytest.mark.redis
def test_a_coalesced_send_with_a_countdown_reaches_the_queue_due_that_much_later(probe_queue):
    handoff.started(TASK)
    before = time.time()
    handoff.send_coalesced(TASK, unsent="not sent", seconds=10, countdown=30)
    handoff.send_coalesced(TASK, unsent="not sent", seconds=10, countdown=30)  # coalesced: not sent
    after = time.time()
    handoff.started(TASK)

    assert probe_queue.drain() == [(TASK, {})]
    [headers] = probe_queue.headers
    due = datetime.datetime.fromisoformat(headers["eta"]).timestamp()
    assert before + 30 <= due <= after + 30


def test_a_broker_that_is_down_is_logged_and_answered_false(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="shop.kernel.handoff"):
        assert handoff.send(TASK, unsent="Could not send the probe; the sweep will.") is False

    assert "Could not send the probe; the sweep will." in caplog.text


@pytest.mark.django_db
def test_send_on_commit_sends_once_the_transaction_commits(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    intercept(monkeypatch, TASK, lambda *args, **kwargs: sent.append((args, kwargs)))

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        handoff.send_on_commit(TASK, args=["a"], kwargs={"b": 2}, countdown=5, unsent="not sent")
        assert sent == []

    assert sent == [(("a",), {"b": 2})]


@pytest.mark.django_db
def test_send_on_commit_sends_nothing_if_the_transaction_rolls_back(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    intercept(monkeypatch, TASK, lambda *args, **kwargs: sent.append((args, kwargs)))

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        handoff.send_on_commit(TASK, unsent="not sent")
        raise Abort

    assert callbacks == [] and sent == []


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_after_the_commit_does_not_undo_it_or_raise(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="shop.kernel.handoff"), transaction.atomic():
        handoff.send_on_commit(TASK, unsent="Could not send the probe; the sweep will.")

    assert "Could not send the probe; the sweep will." in caplog.text


# --- coalesced sends (the outbox relay's trigger) ---------------------------------------------


class Refused(Exception):
    pass


def test_coalesced_sends_share_one_task_until_it_starts(monkeypatch):
    sent = []
    intercept(monkeypatch, TASK, lambda *args, **kwargs: sent.append((args, kwargs)))
    handoff.started(TASK)

    for _ in range(3):  # three commits before a worker takes the task: one task does for all
        handoff.send_coalesced(TASK, unsent="not sent", seconds=10)
    assert sent == [((), {})]

    handoff.started(TASK)  # the task begins its work: what commits from now on needs a new one
    handoff.send_coalesced(TASK, unsent="not sent", seconds=10)
    assert len(sent) == 2


def test_a_coalesced_send_the_broker_refused_leaves_no_mark(monkeypatch, caplog):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise Refused("the broker is down")

    intercept(monkeypatch, TASK, refuse)
    handoff.started(TASK)
    with caplog.at_level(logging.WARNING, logger="shop.kernel.handoff"):
        handoff.send_coalesced(TASK, unsent="Could not send the probe; the sweep will.", seconds=10)
        handoff.send_coalesced(TASK, unsent="Could not send the probe; the sweep will.", seconds=10)

    assert len(attempts) == 2  # the second caller tried again: nothing holds it back
    assert "Could not send the probe; the sweep will." in caplog.text


def test_a_mark_of_a_lost_task_holds_back_new_sends_for_its_lifetime_only(monkeypatch):
    sent = []
    intercept(monkeypatch, TASK, lambda *args, **kwargs: sent.append(args))
    handoff.started(TASK)
    handoff.send_coalesced(TASK, unsent="not sent", seconds=1)  # its message is lost: it never starts
    handoff.send_coalesced(TASK, unsent="not sent", seconds=1)
    assert len(sent) == 1

    time.sleep(1.1)  # the mark's lifetime passes: the next caller sends again

    handoff.send_coalesced(TASK, unsent="not sent", seconds=1)
    assert len(sent) == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_commits_that_publish_ask_for_one_relay_until_it_starts(monkeypatch, probe_queue):
    from shop.kernel import tasks
    from shop.kernel.events import RELAY_TASK, publish
    from shop.kernel.models import OutboxMessage
    from tests.kernel.subscriber_tasks import OutboxProbe

    asked = []
    intercept(monkeypatch, RELAY_TASK, lambda: asked.append(RELAY_TASK))
    handoff.started(RELAY_TASK)
    for label in ("one", "two", "three"):  # three commits before a worker takes the relay
        with transaction.atomic():
            publish(OutboxProbe(label=label))
    assert asked == [RELAY_TASK]

    assert tasks.relay_outbox() == 3  # the one relay sends every commit's row
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert len(probe_queue) == 1  # one message for the subscriber's three events
    with transaction.atomic():
        publish(OutboxProbe(label="four"))
    assert asked == [RELAY_TASK, RELAY_TASK]
