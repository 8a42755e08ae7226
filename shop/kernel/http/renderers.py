"""Renderers of the API (kept apart from ``problems`` so that DRF's settings can import them early)."""

from rest_framework.renderers import JSONRenderer

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemJSONRenderer(JSONRenderer):
    """Lets a client that asks for ``application/problem+json`` receive JSON."""

    media_type = PROBLEM_CONTENT_TYPE
    format = "problem"
