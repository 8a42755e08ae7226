"""
Real brokers for the outbox tests: a dead one (nothing listens on its port), the configured one
(Redis in CI), whose queues are read the way a consumer reads them, with kombu, and a test's own
(``tests.redis_server``) that ``broker_at`` points the app at.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from shop.celery import app as celery_app

#: Nothing listens on port 1: connecting is refused at once.
DEAD_BROKER_URL = "redis://127.0.0.1:1/0"


def _forget_broker_connections() -> None:
    """Drop the app's cached connection and producer pools, so the next send uses broker_url."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _set_broker_url(url: str) -> None:
    """
    Point the app's connections at ``url``. celery 5.6 reads the namespaced key (from the Django
    setting ``CELERY_BROKER_URL``) before ``broker_url``, so both are set.
    """
    celery_app.conf.broker_url = url
    celery_app.conf.CELERY_BROKER_URL = url


def intercept(monkeypatch, task, fn: Callable[..., Any]) -> None:
    """
    From now on, a message this process sends for ``task`` (a Celery task or its name) calls
    ``fn(*args, **kwargs)`` here instead of reaching the broker (``fn`` may run the task, record
    the call or raise as a broker would); messages for other tasks go on as before.
    """
    name = getattr(task, "name", task)
    send_task = celery_app.send_task

    def sending(task_name, args=None, kwargs=None, **options):
        if task_name != name:
            return send_task(task_name, args=args, kwargs=kwargs, **options)
        return fn(*(args or ()), **(kwargs or {}))

    monkeypatch.setattr(celery_app, "send_task", sending)


class BrokerOutage:
    """Points the Celery app at a broker that refuses connections, until ``restore()``."""

    def __init__(self):
        self.saved_url = settings.CELERY_BROKER_URL
        self.down = False

    def start(self) -> None:
        _forget_broker_connections()
        _set_broker_url(DEAD_BROKER_URL)
        connection = celery_app.connection_for_write()
        assert (connection.transport_cls, connection.hostname, connection.port) == ("redis", "127.0.0.1", 1)
        self.down = True

    def restore(self) -> None:
        if self.down:
            _set_broker_url(self.saved_url)
            _forget_broker_connections()
            self.down = False


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Inside the block, this process's Celery app sends to the broker at ``url`` (a test's own)."""
    saved_url = settings.CELERY_BROKER_URL
    _forget_broker_connections()
    _set_broker_url(url)
    try:
        yield
    finally:
        _set_broker_url(saved_url)
        _forget_broker_connections()


class BrokerQueue:
    """
    A queue of the configured broker, read the way a consumer does (kombu), not through Celery.

    It always talks to the broker of the settings, even while ``broker_down`` points the app at
    a dead one.
    """

    def __init__(self, name: str):
        self.name = name
        self.headers: list[dict] = []  # the headers of the messages ``drain`` took, in order

    def connection(self):
        return celery_app.connection_for_write(settings.CELERY_BROKER_URL)

    def purge(self) -> int:
        with self.connection() as conn:
            return conn.default_channel.queue_purge(self.name) or 0

    def __len__(self) -> int:
        """The number of messages waiting: the length of the Redis list kombu keeps them in."""
        with self.connection() as conn:
            return conn.default_channel.client.llen(self.name)

    def drain(self) -> list[tuple[str, dict]]:
        """Take every waiting message off the queue; return (task name, task kwargs) of each."""
        messages = []
        with self.connection() as conn:
            queue = conn.SimpleQueue(self.name)
            try:
                while True:
                    try:
                        message = queue.get(block=False)
                    except queue.Empty:
                        break
                    _args, kwargs, _embed = message.decode()
                    messages.append((message.headers["task"], kwargs))
                    self.headers.append(dict(message.headers))
                    message.ack()
            finally:
                queue.close()
        return messages


def envelopes_of(messages: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """
    (task name, envelope) of every event in ``messages`` (``BrokerQueue.drain``), in order: a
    subscriber's message carries one (``envelope``) or several (``envelopes``).
    """
    return [
        (task, envelope)
        for task, kwargs in messages
        for envelope in (kwargs["envelopes"] if "envelopes" in kwargs else [kwargs["envelope"]])
    ]
