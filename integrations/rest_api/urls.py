"""Integrations' staff endpoints (the OpenAPI schema, tag integrations); each feature adds its paths here."""

from django.urls import path

app_name = "integrations"

urlpatterns = []

from integrations.rest_api import exports  # noqa: E402

urlpatterns += [
    path("exports/", exports.ExportListView.as_view(), name="export-list"),
    path("exports/<uuid:id>/", exports.ExportDetailView.as_view(), name="export-detail"),
    path("exports/<uuid:id>/download/", exports.ExportDownloadView.as_view(), name="export-download"),
]

from integrations.rest_api import imports  # noqa: E402

urlpatterns += [
    path("price-imports/", imports.PriceImportListView.as_view(), name="price-import-list"),
    path("price-imports/<uuid:id>/", imports.PriceImportDetailView.as_view(), name="price-import-detail"),
    path("product-imports/", imports.ProductImportListView.as_view(), name="product-import-list"),
    path(
        "product-imports/<uuid:id>/", imports.ProductImportDetailView.as_view(), name="product-import-detail"
    ),
]

from integrations.rest_api import erp  # noqa: E402

urlpatterns += [
    path("handovers/", erp.HandoverListView.as_view(), name="handover-list"),
    path("handovers/<str:order_number>/retry/", erp.HandoverRetryView.as_view(), name="handover-retry"),
]
