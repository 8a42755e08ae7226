"""
Settings for the test suite: the environment-driven settings with test-friendly defaults.

``DATABASE_URL`` and ``REDIS_URL`` still choose the real services, as in CI.
"""

import os
import tempfile

# A test run does not read the developer's .env (its DEBUG, DATABASE_URL, ...), nor do the
# processes it starts (they inherit the environment).
os.environ.setdefault("ENV_FILE", "")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789abcdef")
os.environ.setdefault("THROTTLE_ANON", "100000/min")
os.environ.setdefault("THROTTLE_USER", "100000/min")
os.environ.setdefault("THROTTLE_AUTH", "100000/min")
os.environ.setdefault("CACHE_KEY_PREFIX", "shop-test")
# Keep the file-system broker, media and other run-time files of a test run out of the work tree.
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="shop-test-var-"))

from shop.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The outbox tests' subscriber (tests/kernel/subscriber_tasks.py) has a queue of its own, routed by
# its name as the shop's subscribers are: the relay sends by task name, and celery < 5.7 routes such
# a send by CELERY_TASK_ROUTES alone, not by the options the task was declared with.
CELERY_TASK_ROUTES = {"tests.kernel.*": {"queue": "shop-test-kernel-outbox"}, **CELERY_TASK_ROUTES}  # noqa: F405
