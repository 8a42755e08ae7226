"""
Rendered JSON kept as bytes, with the HTTP validators a CDN or reverse proxy needs.

A read that is cached (the catalog's) stores ``RenderedJSON``: the body as DRF's JSON renderer
writes it and a strong ``ETag`` of those bytes. Serving it costs no serializer and no renderer;
a client or proxy that sends the ETag back in ``If-None-Match`` gets a ``304 Not Modified``
without a body. ``Cache-Control: public, max-age=N`` lets a proxy answer for ``N`` seconds
(``CATALOG_HTTP_MAX_AGE``) and then revalidate; ``Vary: Accept`` keeps the problem+json and
browsable renderings apart.
"""

import hashlib
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.renderers import JSONRenderer

_RENDERER = JSONRenderer()


@dataclass(frozen=True)
class RenderedJSON:
    """A JSON body and its strong ETag (quoted, as the header carries it)."""

    body: bytes
    etag: str


def render_json(data) -> RenderedJSON:
    """``data`` as the API's JSON renderer writes it, with the ETag of those bytes."""
    body = _RENDERER.render(data)
    return RenderedJSON(body=body, etag=f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"')


def wants_json(request) -> bool:
    """Whether DRF's content negotiation chose plain JSON (not the browsable API or problem+json)."""
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.format == "json"


def json_response(request, rendered: RenderedJSON, *, max_age: int) -> HttpResponse:
    """200 with ``rendered``, or 304 if the request's ``If-None-Match`` names its ETag."""
    response = get_conditional_response(request, etag=rendered.etag)
    if response is None:
        response = HttpResponse(rendered.body, content_type="application/json")
    # A new response has none of these yet: set, not patched (what patch_cache_control and
    # patch_vary_headers would write, without parsing).
    response["ETag"] = rendered.etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Vary"] = "Accept"
    return response


#: The OpenAPI parts of an operation answered by ``json_response``: the request's validator, the
#: response's headers and the 304.
CONDITIONAL_PARAMETERS = [
    OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An `ETag` of an earlier answer: 304 without a body if it is still current.",
    ),
    OpenApiParameter(
        "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 304], description="Of the body."
    ),
    OpenApiParameter(
        "Cache-Control",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="`public, max-age=N`: a CDN or proxy may answer N seconds, then revalidate.",
    ),
]
NOT_MODIFIED = {304: OpenApiResponse(description="Not modified: the `If-None-Match` ETag is current.")}
