"""The project: settings, URL wiring, the Celery app, health and the shared kernel."""

from shop.celery import app as celery_app

__all__ = ("celery_app",)
