"""
URL wiring: each context's HTTP layer under /api/v1/, health, metrics, schema, admin (with the
operations page, shop/operations.py) and the index.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from shop import health, home, metrics

urlpatterns = [
    path("", home.index, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/workers", health.workers, name="healthz-workers"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/auth/", include("shop.accounts.rest_api.urls")),
    path("api/v1/catalog/", include("catalog.rest_api.urls")),
    path("api/v1/inventory/", include("inventory.rest_api.urls")),
    path("api/v1/carts/", include("cart.rest_api.urls")),
    path("api/v1/", include("checkout.rest_api.urls")),
    path("api/v1/integrations/", include("integrations.rest_api.urls")),
    # By string, as the contexts' URLconfs: the page reads contexts, and shop.urls imports none.
    path("admin/operations/", include("shop.operations")),
    path("admin/", admin.site.urls),
]

handler400 = "shop.kernel.http.problems.bad_request_view"
handler403 = "shop.kernel.http.problems.permission_denied_view"
handler404 = "shop.kernel.http.problems.not_found_view"
handler500 = "shop.kernel.http.problems.server_error_view"
