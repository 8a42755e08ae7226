"""
The catalog's fast path: cached product pages and lists answered before the rest of the stack.

A campaign's read load is mostly anonymous ``GET``s of product pages and lists, and once a page is
cached (``catalog/cache.py``) the work left is the rate throttle's count and the bytes. Through the
whole stack that work is a third of the request's cost: the session, CSRF, authentication and
message middleware, URL resolution and DRF's view machinery (authentication, content
negotiation) run for a request that uses none of them. ``CachedReadsMiddleware`` sits right after
Django's ``SecurityMiddleware`` and answers such a request itself, with what the views would
answer: the same throttle script (one Redis round trip that counts the request and fetches the
entry), the same bytes and ``ETag`` (304 to ``If-None-Match``) and the same headers.

It answers only what it can answer the same way, and passes everything else on unchanged:

- ``GET`` of a product page or of the product list with only the list's own parameters;
- no credentials (no ``Authorization`` header, no session cookie: a signed-in customer's rate is
  the ``user`` one, counted by DRF) and an ``Accept`` that DRF would answer with plain JSON;
- the throttle admits the request (a refusal goes on to DRF, which refuses it again with its
  429 and ``Retry-After``: refused requests are not counted, so nothing is counted twice);
- the entry is cached (a miss goes on to the view, which reads the database and stores the page;
  the request carries ``counted_scopes`` and ``prefetched_cache`` so that the throttle does not
  count it again and the view does not read the cache again).

The host is validated as everywhere (``ALLOWED_HOSTS``: a 400 otherwise). django-prometheus's
per-view metrics are recorded for the requests answered here under the views' names, so that the
per-endpoint rates and latencies include them.

``CachedReadsApp`` gives the same answers one step earlier, in front of Django's WSGI handler
(``WSGI_FRONTS`` names it; ``shop/wsgi.py`` wraps the handler). A cached read is then not
carried through Django's handler, its signals and the five middleware before this one: the app
builds the request, checks what those middleware would refuse or redirect (a NUL character, an
HTTP request under ``SECURE_SSL_REDIRECT``; such requests go on to Django), asks ``answer``,
and writes what the middleware would add to the answer itself: the request id (bound in the log
context until the response is closed), django-prometheus's request and response counts and
latency, the campaign counter and the security headers (Django's ``SecurityMiddleware``'s own
``process_response``). A read it does not answer goes on to Django unchanged, with what it did
already in the environ: the request id it bound, the throttle's count and the entries the
script returned, which ``CachedReadsMiddleware`` hands to the view. With tracing on it steps
aside (the instrumentation is a middleware, and the middleware path answers with its spans).
The middleware stays for what does not pass through the WSGI front: runserver's and the test
client's handlers, ASGI.
"""

import logging
import re
import time

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.middleware.security import SecurityMiddleware
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django_prometheus.middleware import Metrics

from catalog import cache
from catalog.rest_api.views import LIST_PARAMETERS
from shop.kernel import metrics as shop_metrics
from shop.kernel import tracing
from shop.kernel.http.conditional import json_response
from shop.kernel.http.middleware import REQUEST_ID_KEY, bind_request_id, clear_log_context, has_nul
from shop.kernel.http.throttling import AnonRateThrottle

logger = logging.getLogger(__name__)

# What DRF's content negotiation answers with its first renderer, plain JSON.
_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
_ALLOW = "GET, HEAD, OPTIONS"
# The names of the views whose cached answers the fast path gives (catalog/rest_api/urls.py).
DETAIL_VIEW = "catalog:product-detail"
LIST_VIEW = "catalog:product-list"
# The environ key under which CachedReadsApp passes on what it did for a read it did not answer.
PASSED_ON_KEY = "shop.catalog_fast_path"


class CachedReadsMiddleware:
    """Answer an anonymous ``GET`` of a cached product page or list without the rest of the stack."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.metrics = Metrics.get_instance()

    def __call__(self, request):
        passed_on = request.META.pop(PASSED_ON_KEY, None)
        if passed_on is not None:  # CachedReadsApp asked already: what it found goes to the view
            for name, value in passed_on.items():
                setattr(request, name, value)
            return self.get_response(request)
        response = self.answer(request) if request.method == "GET" else None
        return response if response is not None else self.get_response(request)

    @cached_property
    def paths(self) -> tuple[str, re.Pattern] | None:
        """The list's path and a pattern of the pages' paths (None: the URLconf has no catalog)."""
        try:
            list_path = reverse(LIST_VIEW)
        except NoReverseMatch:
            return None
        return list_path, re.compile(re.escape(list_path) + r"([-a-zA-Z0-9_]+)/\Z")

    def view_of(self, path: str) -> tuple[str, str | None] | None:
        """The view whose answers ``path`` asks for, with the page's slug (None: the list's)."""
        if self.paths is None:
            return None
        list_path, detail_path = self.paths
        if path == list_path:
            return LIST_VIEW, None
        match = detail_path.match(path)
        return None if match is None else (DETAIL_VIEW, match[1])

    def answer(self, request):
        """The cached answer to ``request``, or None where the full stack must answer."""
        found_view = self.view_of(request.path_info)
        if found_view is None:
            return None
        view, slug = found_view
        if slug is None and not LIST_PARAMETERS.issuperset(request.GET):
            return None
        meta = request.META
        if (
            meta.get("HTTP_ACCEPT", "") not in _JSON_ACCEPTS
            or "HTTP_AUTHORIZATION" in meta
            or settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            return None
        started = time.perf_counter()
        if slug is None:
            url = request.build_absolute_uri()  # the page's links are absolute: the host is part of it
            keys = cache.list_keys(url)
        else:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it (DisallowedHost: a 400)
            keys = cache.product_keys(slug)
        throttle = AnonRateThrottle()
        prefetched = throttle.rate is not None and throttle.prefetches
        if throttle.rate is not None:
            admitted, found = throttle.count(throttle.anonymous_key(request), keys if prefetched else ())
            if not admitted:
                return None  # DRF refuses it again, with the 429's Retry-After
            request.counted_scopes = (throttle.scope,)
        if not prefetched:
            found = default_cache.get_many(keys)
        if slug is not None:
            rendered = cache.get_product(slug, prefetched=found)
        else:
            rendered = cache.cached_list(url, found)
        if rendered is None:
            request.prefetched_cache = found  # the view's miss reads no cache again
            return None
        response = json_response(request, rendered, max_age=settings.CATALOG_HTTP_MAX_AGE)
        # What the full stack adds: the session middleware's Vary (DRF's session authentication
        # reads the session), DRF's Allow, the clickjacking header and the length.
        response["Vary"] = "Accept, Cookie"
        response["Allow"] = _ALLOW
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        response["Content-Length"] = str(len(response.content))
        request.answered_by_context = "catalog"  # no view was resolved: the campaign counter's label
        status = str(response.status_code)
        self.metrics.responses_by_status_view_method.labels(status=status, view=view, method="GET").inc()
        self.metrics.requests_latency_by_view_method.labels(view=view, method="GET").observe(
            time.perf_counter() - started
        )
        return response


class CachedReadsApp:
    """
    ``CachedReadsMiddleware``'s answers in front of Django's WSGI handler ``handler`` (the
    module's docstring): what a cached read costs is the throttle's round trip and the bytes.
    """

    def __init__(self, handler):
        self.handler = handler
        self.reads = CachedReadsMiddleware(handler)
        self.security = SecurityMiddleware(handler)
        self.metrics = Metrics.get_instance()

    def __getattr__(self, name):
        if name == "handler":
            raise AttributeError(name)
        return getattr(self.handler, name)  # the handler's own (load_middleware, for tracing)

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("SCRIPT_NAME")
            or self.reads.view_of(environ.get("PATH_INFO", "")) is None  # not the catalog's reads
            or tracing.active()
        ):
            return self.handler(environ, start_response)
        started = time.perf_counter()
        request = WSGIRequest(environ)
        if has_nul(request) or self.security.process_request(request) is not None:
            return self.handler(environ, start_response)  # refused or redirected there
        request_id = bind_request_id(environ)
        try:
            response = self.reads.answer(request)
        except DisallowedHost:
            response = None  # Django answers it (400), as it does everywhere
        except Exception:
            logger.exception("The catalog's fast path failed; the full stack answers")
            response = None
        if response is None:
            environ[REQUEST_ID_KEY] = request_id
            environ[PASSED_ON_KEY] = {
                name: getattr(request, name)
                for name in ("counted_scopes", "prefetched_cache")
                if hasattr(request, name)
            }
            return self.handler(environ, start_response)
        response = self.security.process_response(request, response)
        response["X-Request-ID"] = request_id
        # What django-prometheus's first middleware and the campaign counter record.
        self.metrics.requests_total.inc()
        self.metrics.responses_total.inc()
        self.metrics.requests_latency_before.observe(time.perf_counter() - started)
        shop_metrics.count_request_by_campaign(shop_metrics.campaign_of_request(request), "catalog")
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return _Body(response.content)


class _Body(list):
    """A response body that unbinds the request's log context when the server closes it."""

    def __init__(self, content: bytes):
        super().__init__([content])

    def close(self) -> None:
        clear_log_context()
