"""
RFC 9457 problem details for every error the HTTP API returns.

Shape: ``{"type", "title", "status", "detail", "code", "errors"}`` with the content type
``application/problem+json``. ``code`` is a stable machine-readable string; ``errors`` maps
field names to messages for validation errors. DRF errors pass through
``problem_exception_handler``; Django-level errors (unknown URL, CSRF failure, unhandled
exception) through the views at the end of this module.

A context's services raise the exceptions of its ``errors.py`` where a failure is detected; its
HTTP layer answers them through one table, ``<context>/rest_api/problems.py``::

    PROBLEMS = {
        EmptyCart: Maps(400, "empty_cart", "The cart is empty."),
        InsufficientStock: Maps(409, "insufficient_stock", members=shortage_members),
    }

The handler looks the exception's classes up (most specific first) in the table of the package
of the view that met it; an exception no table maps is a 500 (and fails a test loudly). Views
raise ``Problem`` directly only for what they check themselves (a header, a query parameter).

Every 503 (a database, cache or broker that does not answer, a payment provider that timed out,
``/readyz`` failing) carries ``Retry-After: RETRY_AFTER_SECONDS``, so that clients and load
balancers come back after a pause rather than at once.
"""

import http
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from shop.kernel.http.renderers import PROBLEM_CONTENT_TYPE

logger = logging.getLogger(__name__)


# DRF's codes that the shop's contract names otherwise.
_CODE_ALIASES = {
    "authentication_failed": "not_authenticated",
    "parse_error": "invalid",
    "error": "invalid",
}


class Problem(exceptions.APIException):
    """
    An error with a problem code of the shop's contract and optional extra members, e.g.
    ``Problem(409, "insufficient_stock", "Not enough stock.", available=3)``.
    """

    def __init__(self, status_code: int, code: str, detail: str, *, errors=None, **extra: Any):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.errors = errors
        self.extra = extra


class ServiceUnavailable(Problem):
    """A dependency (database, cache, broker) does not answer."""

    def __init__(self, detail: str = "A dependency is unavailable; try again shortly.", **extra):
        super().__init__(status.HTTP_503_SERVICE_UNAVAILABLE, "service_unavailable", detail, **extra)


@dataclass(frozen=True)
class Maps:
    """
    How one exception answers over HTTP: its status and problem code, a ``detail`` (default: the
    exception's message; a callable gets the exception) and ``members``, a callable that returns
    the body's extra members from the exception (``errors`` among them for field messages).
    """

    status: int
    code: str
    detail: str | Callable[[Exception], str] | None = None
    members: Callable[[Exception], dict[str, Any]] | None = None

    def problem(self, exc: Exception) -> Problem:
        if self.detail is None:
            detail = str(exc)
        else:
            detail = self.detail if isinstance(self.detail, str) else self.detail(exc)
        members = dict(self.members(exc)) if self.members is not None else {}
        errors = members.pop("errors", None)
        return Problem(self.status, self.code, detail, errors=errors, **members)


ProblemTable = Mapping[type[Exception], Maps]


def maps_for(exc: Exception, table: ProblemTable) -> Maps | None:
    """The entry of ``table`` for ``exc``: its own class first, then its bases."""
    for klass in type(exc).__mro__:
        entry = table.get(klass)
        if entry is not None:
            return entry
    return None


@cache
def _table_of_package(package: str) -> ProblemTable:
    try:
        module = import_module(f"{package}.problems")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.problems":
            raise
        return {}
    return module.PROBLEMS


def problem_table(view: Any) -> ProblemTable:
    """The table of the ``rest_api`` package that ``view`` belongs to (``cart.rest_api.problems``)."""
    if view is None:
        return {}
    return _table_of_package(type(view).__module__.rpartition(".")[0])


def problem_for(exc: Exception, view: Any) -> Problem | None:
    """The ``Problem`` that a service's ``exc`` answers with in ``view``'s context; None if unmapped."""
    entry = maps_for(exc, problem_table(view))
    return entry.problem(exc) if entry is not None else None


def problem(status_code: int, code: str, detail: str, errors=None, **extra: Any) -> dict[str, Any]:
    """Return the problem-details body for the given status and code."""
    body = {
        "type": f"urn:shop:problem:{code}",
        "title": http.HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Map nested DRF error details to ``{"field.sub": [messages]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("Database unavailable: %s", exc)
        return ServiceUnavailable("The database is unavailable; try again shortly.")
    if isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, before any parser
        return Problem(400, "too_large", "The request body is too large.")
    return exc


def retry_after(response: HttpResponse) -> HttpResponse:
    """Give a 503 ``response`` a ``Retry-After`` of ``RETRY_AFTER_SECONDS`` unless it has one."""
    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE and not response.has_header("Retry-After"):
        response["Retry-After"] = str(settings.RETRY_AFTER_SECONDS)
    return response


def problem_exception_handler(exc: Exception, context: dict):
    """DRF exception handler that answers with problem details (unhandled errors go to 500)."""
    exc = _translate(exc)
    if not isinstance(exc, exceptions.APIException):
        exc = problem_for(exc, context.get("view")) or exc
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Problem):
        body = problem(exc.status_code, exc.problem_code, str(exc.detail), exc.errors, **exc.extra)
    elif isinstance(exc, exceptions.ValidationError):
        detail = "The request is not valid; see errors."
        body = problem(response.status_code, "invalid", detail, _flatten(exc.detail))
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = code if isinstance(code, str) else "error"
        if response.status_code == status.HTTP_404_NOT_FOUND:
            code = "not_found"
        elif response.status_code == status.HTTP_403_FORBIDDEN:
            code = "permission_denied"
        code = _CODE_ALIASES.get(code, code)
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = problem(response.status_code, code, str(detail))
    response.data = body
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format != "api":
        response.content_type = PROBLEM_CONTENT_TYPE
    return retry_after(response)


def problem_response(status_code: int, code: str, detail: str, **extra: Any) -> JsonResponse:
    """A plain Django response with problem details, for views outside DRF."""
    return retry_after(
        JsonResponse(
            problem(status_code, code, detail, **extra),
            status=status_code,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    )


def not_found_view(request, exception=None):
    """``handler404``: no route for this URL."""
    return problem_response(404, "not_found", "Not found.")


def bad_request_view(request, exception=None):
    """``handler400``: Django rejected the request (e.g. a disallowed Host header)."""
    return problem_response(400, "invalid", "Bad request.")


def permission_denied_view(request, exception=None):
    """``handler403``."""
    return problem_response(403, "permission_denied", "You do not have permission to do this.")


def csrf_failure_view(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a session-authenticated write without a valid CSRF token."""
    return problem_response(403, "permission_denied", f"CSRF verification failed: {reason}")


def server_error_view(request):
    """``handler500``: an unhandled error; the traceback goes to the log, never to the client."""
    return problem_response(500, "server_error", "An unexpected error occurred; it has been logged.")
