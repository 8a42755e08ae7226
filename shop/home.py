"""
``/``: where a newcomer (or the admin's "View site" link) lands: the API docs, the schema, the
admin, health, readiness, the workers' health and the metrics. A browser gets a small HTML page;
``Accept: application/json`` (and curl's ``*/*``) a JSON index of the same links.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from shop.kernel.http.problems import problem_response

# (key of the JSON index, title on the page, URL name); the API's base is added to them.
LINKS = (
    ("docs", "Interactive API docs", "docs"),
    ("schema", "OpenAPI 3 schema", "schema"),
    ("admin", "Admin", "admin:index"),
    ("health", "Liveness", "healthz"),
    ("readiness", "Readiness", "readyz"),
    ("workers_health", "The workers' health (every queue consumed)", "healthz-workers"),
    ("metrics", "Prometheus metrics", "metrics"),
)
API_BASE = "/api/v1/"
PRODUCTS = "/api/v1/catalog/products/"

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
code{{background:#f3f3f3;padding:0 .2rem}}
</style></head>
<body>
<h1>{title}</h1>
<p>The shop's HTTP API lives under <code>{api}</code> (the products: <a href="{products}">{products}</a>);
this server has no storefront.</p>
<ul>
{links}
</ul>
</body>
</html>
"""


def index(request):
    """The links a visitor of ``/`` is after, as HTML or JSON (content negotiation by ``Accept``)."""
    if request.method not in ("GET", "HEAD"):
        response = problem_response(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
        response["Allow"] = "GET, HEAD"
        return response
    links = [(key, title, reverse(name)) for key, title, name in LINKS]
    title = settings.SPECTACULAR_SETTINGS["TITLE"]
    if request.get_preferred_type(["application/json", "text/html"]) == "text/html":
        items = format_html_join(
            "\n", '<li><a href="{}">{}</a> <code>{}</code></li>', ((u, t, u) for _, t, u in links)
        )
        return HttpResponse(format_html(PAGE, title=title, api=API_BASE, products=PRODUCTS, links=items))
    return JsonResponse(
        {
            "name": title,
            "api_base": request.build_absolute_uri(API_BASE),  # a prefix, not a page: nothing answers there
            "products": request.build_absolute_uri(PRODUCTS),
            **{key: request.build_absolute_uri(url) for key, _, url in links},
        }
    )
