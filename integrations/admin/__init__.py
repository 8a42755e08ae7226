"""Integrations in the admin: each feature module registers its models; imported here."""
