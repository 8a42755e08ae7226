"""Integrations in the admin: each feature module registers its models; imported here."""

from integrations.admin import erp, exports, imports  # noqa: F401
