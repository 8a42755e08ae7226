"""
Middleware of the API's border.

``RequestIdMiddleware``: every request gets an id, the incoming ``X-Request-ID`` when it is one
(``shop.kernel.logcontext.valid_request_id``: at most 128 characters of letters, digits and
``._:+/=-``), else a new one; it is bound in the log context for the request's log records and
the tasks the request sends, and answered in the ``X-Request-ID`` response header.

``RejectNulMiddleware``: a NUL character in the path (``/handovers/%00/retry/``), the query
string or a header value is a 400 ``invalid`` before any view runs. PostgreSQL's text cannot
hold a NUL, so such a value used to reach the database and fail there (``DataError``, a 500);
no URL, parameter or header of the shop has a use for one.
"""

from urllib.parse import unquote_to_bytes

from django.core.signals import request_finished

from shop.kernel.http.problems import problem_response
from shop.kernel.logcontext import ORDER_NUMBER, REQUEST_ID, new_request_id, valid_request_id

NUL = "\x00"


def has_nul(request) -> bool:
    """Whether the request's path, query string or a header value holds a NUL character."""
    if NUL in request.path_info or NUL in request.path:
        return True
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return True
    return any(
        key.startswith("HTTP_") and isinstance(value, str) and NUL in value
        for key, value in request.META.items()
    )


class RejectNulMiddleware:
    """Answer 400 problem+json to a request with a NUL in its path, query string or headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            return problem_response(
                400,
                "invalid",
                "The URL, a query parameter or a header holds a NUL character (%00), which is not allowed.",
            )
        return self.get_response(request)


class RequestIdMiddleware:
    """
    Bind the request's id (``X-Request-ID`` in, or a new one) in the log context and answer it in
    ``X-Request-ID``. The context stays bound after the middleware, so that Django's request log
    (written after the middleware chain) and gunicorn's access log carry it, and is cleared when
    the response is closed (``request_finished``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(_clear_log_context, dispatch_uid="shop.kernel.logcontext.clear")

    def __call__(self, request):
        request_id = bind_request_id(request.META)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


#: The key of a WSGI environ under which a front answering before Django (the catalog's
#: ``CachedReadsApp``) leaves the request id it bound, when it passes the request on.
REQUEST_ID_KEY = "shop.request_id"


def bind_request_id(meta) -> str:
    """
    The request's id (one a front before Django chose already, else a valid ``X-Request-ID``,
    else a new one), bound in the log context with no order number yet.
    """
    request_id = (
        meta.get(REQUEST_ID_KEY) or valid_request_id(meta.get("HTTP_X_REQUEST_ID")) or new_request_id()
    )
    REQUEST_ID.set(request_id)
    ORDER_NUMBER.set(None)
    return request_id


def clear_log_context() -> None:
    """Unbind the request's id and order number (the response was closed)."""
    REQUEST_ID.set(None)
    ORDER_NUMBER.set(None)


def _clear_log_context(**_) -> None:
    clear_log_context()
