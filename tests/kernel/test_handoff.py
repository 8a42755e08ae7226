"""
The hand-off to the workers (``shop.kernel.handoff``): a task sent by name to the queue its name
is routed to, after the commit only, and a broker that is down logged, never raised.
"""

import logging

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
