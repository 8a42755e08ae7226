"""The Celery app. Its configuration is the ``CELERY_*`` part of the Django settings."""

import os

from celery import Celery, signals
from django import db

from shop import logs, telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Logs: the request id of the request that sent a task is bound while the task runs (shop/logs.py).
logs.connect_celery()
# Traces, when the OTEL_* variables ask for them: set up in each process after the fork.
telemetry.connect_celery()


def _close_old_connections(sender=None, **_kwargs) -> None:
    """
    Around each task, what Django does around each request: close the database connections that
    are past ``CONN_MAX_AGE``, broken, or left in a transaction; keep the others. Not for a task
    run eagerly, inside its caller's transaction.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    db.close_old_connections()


signals.task_prerun.connect(_close_old_connections, weak=False, dispatch_uid="shop.celery.db_prerun")
signals.task_postrun.connect(_close_old_connections, weak=False, dispatch_uid="shop.celery.db_postrun")
