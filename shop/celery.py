"""The Celery app. Its configuration is the ``CELERY_*`` part of the Django settings."""

import os

from celery import Celery

from shop import logs, telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Logs: the request id of the request that sent a task is bound while the task runs (shop/logs.py).
logs.connect_celery()
# Traces, when the OTEL_* variables ask for them: set up in each process after the fork.
telemetry.connect_celery()
