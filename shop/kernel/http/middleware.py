"""
Middleware of the API's border.

``RejectNulMiddleware``: a NUL character in the path (``/handovers/%00/retry/``), the query
string or a header value is a 400 ``invalid`` before any view runs. PostgreSQL's text cannot
hold a NUL, so such a value used to reach the database and fail there (``DataError``, a 500);
no URL, parameter or header of the shop has a use for one.
"""

from urllib.parse import unquote_to_bytes

from shop.kernel.http.problems import problem_response

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
