"""
Real brokers for the outbox tests: a dead one (nothing listens on its port), the configured one
(Redis in CI), whose queues are read the way a consumer reads them, with kombu, and a Redis server
of the test's own that it can kill and start again empty, as compose runs Redis (no persistence).
"""

import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis
from django.conf import settings

from shop.celery import app as celery_app

#: Nothing listens on port 1: connecting is refused at once.
DEAD_BROKER_URL = "redis://127.0.0.1:1/0"


def _forget_broker_connections() -> None:
    """Drop the app's cached connection and producer pools, so the next send uses broker_url."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class BrokerOutage:
    """Points the Celery app at a broker that refuses connections, until ``restore()``."""

    def __init__(self):
        self.saved_url = celery_app.conf.broker_url
        self.down = False

    def start(self) -> None:
        _forget_broker_connections()
        celery_app.conf.broker_url = DEAD_BROKER_URL
        connection = celery_app.connection_for_write()
        assert (connection.transport_cls, connection.hostname, connection.port) == ("redis", "127.0.0.1", 1)
        self.down = True

    def restore(self) -> None:
        if self.down:
            celery_app.conf.broker_url = self.saved_url
            _forget_broker_connections()
            self.down = False


class BrokerQueue:
    """
    A queue of the configured broker, read the way a consumer does (kombu), not through Celery.

    It always talks to the broker of the settings, even while ``broker_down`` points the app at
    a dead one.
    """

    def __init__(self, name: str):
        self.name = name

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
                    message.ack()
            finally:
                queue.close()
        return messages


class RedisServer:
    """
    A ``redis-server`` of the test's own on a free port, keeping nothing on disk: ``restart()``
    kills it (SIGKILL, as a crash or an OOM kill does) and starts it again, empty.
    """

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="shop-test-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        command = [
            shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", self.dir,
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client().ping():
                    return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)

    def restart(self) -> None:
        """Kill the server and start it again on the same port, with nothing of what it held."""
        self.kill()
        self.start()

    def use_as_broker(self) -> None:
        """Point this process's Celery app at this server (``stop()`` points it back)."""
        _forget_broker_connections()
        celery_app.conf.broker_url = self.url

    def stop(self) -> None:
        if celery_app.conf.broker_url == self.url:
            celery_app.conf.broker_url = settings.CELERY_BROKER_URL
            _forget_broker_connections()
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
