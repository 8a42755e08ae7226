"""
The API's JSON parser: DRF's, with bounds on the body's size and nesting depth.

DRF's ``JSONParser`` hands the body to ``json.load``, which recurses once per level of nesting:
100,000 ``[`` in an unauthenticated ``POST`` was a ``RecursionError`` (a 500 with a traceback
in the log). ``BoundedJSONParser`` refuses a body longer than ``API_JSON_MAX_BYTES`` (400
``too_large``; it reads no more than that from the stream), nested deeper than
``API_JSON_MAX_DEPTH`` or holding a NUL character (400 ``invalid``) before anything is decoded
(``shop.kernel.bounded_json``). Django itself reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` of a
body (``RequestDataTooBig``, which the problem handler also answers 400 ``too_large``).

This module imports nothing of ``problems`` (which imports DRF's views, whose class attributes
import the default parser): the errors are plain ``APIException``s that the problem handler
turns into problem details.
"""

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json as drf_json

from shop.kernel import bounded_json

DEFAULT_MAX_BYTES = 1024 * 1024


class RequestBodyTooLarge(exceptions.APIException):
    """A request body over the parser's limit (problem code ``too_large``)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "too_large"
    default_detail = "The request body is too large."


def max_bytes() -> int:
    """The largest JSON body accepted (``API_JSON_MAX_BYTES``)."""
    return getattr(settings, "API_JSON_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_depth() -> int:
    """The deepest nesting of arrays and objects accepted in a JSON body (``API_JSON_MAX_DEPTH``)."""
    return getattr(settings, "API_JSON_MAX_DEPTH", bounded_json.DEFAULT_MAX_DEPTH)


class BoundedJSONParser(JSONParser):
    """``application/json`` with limits on size and depth, checked before decoding."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_bytes()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestBodyTooLarge(f"The JSON body is larger than {limit:,} bytes.")
        encoding = get_encoding(parser_context or {})  # a text encoding, never a bz2_codec bomb
        parse_constant = drf_json.strict_constant if self.strict else None
        try:
            return bounded_json.loads(
                raw.decode(encoding), max_depth=max_depth(), parse_constant=parse_constant
            )
        except bounded_json.JSONRefused as exc:
            raise exceptions.ParseError(str(exc)) from None
        except ValueError as exc:  # not JSON, or not text in the request's encoding
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
