"""
What a test run leaves in shared places, and its clean-up at the end of the run
(``pytest_sessionfinish`` in tests/conftest.py; the prefix and the folder: ``shop.settings.test``).
"""

import logging
import shutil

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


def run_prefix() -> str:
    """The prefix of every key this run stores in Redis (``<SHOP_TEST_RUN>:``)."""
    return f"{settings.TEST_RUN}:"


def celery_queue_key(queue: str) -> str:
    """The Redis key of a Celery queue of this run (kombu's ``global_keyprefix`` + its name)."""
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "") + queue


def redis_urls() -> set[str]:
    """The Redis databases this run used: the cache's and the broker's."""
    urls = {settings.REDIS_URL, settings.CELERY_BROKER_URL}
    return {url for url in urls if url.startswith(("redis://", "rediss://"))}


def delete_run_keys() -> int:
    """Delete this run's keys from its Redis databases; return how many went."""
    deleted = 0
    for url in redis_urls():
        try:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
            keys = list(client.scan_iter(match=f"{run_prefix()}*", count=1000))
            for start in range(0, len(keys), 1000):
                deleted += client.delete(*keys[start : start + 1000])
        except redis.RedisError as exc:
            logger.warning("The test run's keys in %s could not be deleted: %s", url, exc)
    return deleted


def remove_run_var_dir() -> None:
    """Remove the temporary ``VAR_DIR`` if this process made it (not one given by the environment)."""
    if settings.TEST_OWNS_VAR_DIR:
        shutil.rmtree(settings.VAR_DIR, ignore_errors=True)
