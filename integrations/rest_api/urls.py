"""Integrations' staff endpoints (API.md, Integrations); each feature adds its paths here."""

from django.urls import path  # noqa: F401

app_name = "integrations"

urlpatterns = []
