"""Integrations' Celery tasks: each feature module is imported here so that workers find it."""

from integrations.tasks import erp, exports, jobs, price_import, product_import, stock_sync  # noqa: F401
