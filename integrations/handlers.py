"""Integrations listen to other contexts' events here (see the README)."""
