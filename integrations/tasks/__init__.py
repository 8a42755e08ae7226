"""Integrations' Celery tasks: each feature module is imported here so that workers find it."""
