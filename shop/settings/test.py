"""
Settings for the test suite: the environment-driven settings with test-friendly defaults.

``DATABASE_URL`` and ``REDIS_URL`` still choose the real services, as in CI.

A test run keeps to itself, so that it can share a Redis with a development stack (and with
another test run): everything it stores in Redis, the cache's keys and Celery's queues, bindings
and unacknowledged messages, is under the run's prefix ``SHOP_TEST_RUN`` (``shop-test-<random>``;
kombu's ``global_keyprefix`` for Celery), so a worker of the development stack consuming
``default`` never sees a test's task, and a test never purges a queue of the stack. Its run-time
files are in a temporary ``VAR_DIR``. The processes a test starts (workers, beat, gunicorn) inherit
both through the environment; at the end of the run ``tests/conftest.py`` deletes the run's keys
and its ``VAR_DIR``.
"""

import os
import secrets
import tempfile

# A test run does not read the developer's .env (its DEBUG, DATABASE_URL, ...), nor do the
# processes it starts (they inherit the environment).
os.environ.setdefault("ENV_FILE", "")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789abcdef")
os.environ.setdefault("THROTTLE_ANON", "100000/min")
os.environ.setdefault("THROTTLE_USER", "100000/min")
os.environ.setdefault("THROTTLE_AUTH", "100000/min")
TEST_RUN = os.environ.setdefault("SHOP_TEST_RUN", f"shop-test-{secrets.token_hex(4)}")
os.environ.setdefault("CACHE_KEY_PREFIX", TEST_RUN)  # the benchmarks set their own
# Keep the file-system broker, media and other run-time files of a test run out of the work tree;
# the process that made the folder (pytest's) removes it at the end.
TEST_OWNS_VAR_DIR = "VAR_DIR" not in os.environ
if TEST_OWNS_VAR_DIR:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="shop-test-var-")

from shop.settings.base import *  # noqa: E402, F403 (after the environment it reads)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The outbox tests' subscriber (tests/kernel/subscriber_tasks.py) has a queue of its own, routed by
# its name as the shop's subscribers are: the relay sends by task name, and celery < 5.7 routes such
# a send by CELERY_TASK_ROUTES alone, not by the options the task was declared with.
CELERY_TASK_ROUTES = {"tests.kernel.*": {"queue": "shop-test-kernel-outbox"}, **CELERY_TASK_ROUTES}  # noqa: F405
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "global_keyprefix": f"{TEST_RUN}:celery:",
    }
