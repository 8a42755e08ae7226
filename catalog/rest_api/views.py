"""The catalog's HTTP API (public, read-only): one view per operation."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import cache, selectors
from catalog.rest_api.serializers import (
    CategorySerializer,
    ProductDetailSerializer,
    ProductListItemSerializer,
    ProductListQuery,
)
from shop.kernel.http.conditional import (
    CONDITIONAL_PARAMETERS,
    NOT_MODIFIED,
    json_response,
    render_json,
    wants_json,
)
from shop.kernel.http.pagination import KeysetPagination, Ordering
from shop.kernel.http.schema import PAGE_PARAMETERS, paginated, problem_responses


class CategoryListView(APIView):
    """The category tree, flat, sorted by path (parents before their children)."""

    @extend_schema(
        operation_id="catalog_categories_list",
        summary="List categories",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated(CategorySerializer, "PaginatedCategoryList"),
            **problem_responses(400, 429),
        },
    )
    def get(self, request):
        paginator = KeysetPagination(request, ordering=Ordering(("path",)))
        page = paginator.paginate_list(selectors.category_tree())
        return paginator.get_paginated_response(CategorySerializer(page, many=True).data)


def _cached_json(request, rendered):
    return json_response(request, rendered, max_age=settings.CATALOG_HTTP_MAX_AGE)


# The list's own parameters: a URL with any other is read but not cached, so that made-up
# parameters cannot fill the cache with copies of one page.
LIST_PARAMETERS = frozenset(ProductListQuery().fields) | {"cursor", "page_size"}


def _cacheable(request) -> bool:
    return wants_json(request) and LIST_PARAMETERS.issuperset(request.query_params)


class ProductListView(APIView):
    """
    Listable products with full-text search, filters and keyset pagination. A page is cached
    rendered, by its URL, for the current generation of the catalog (``catalog/cache.py``);
    it carries an ``ETag`` (304 to ``If-None-Match``) and ``Cache-Control``.
    """

    @extend_schema(
        operation_id="catalog_products_list",
        summary="List and search products",
        parameters=[ProductListQuery, *PAGE_PARAMETERS, *CONDITIONAL_PARAMETERS],
        responses={
            200: paginated(ProductListItemSerializer, "PaginatedProductList"),
            **NOT_MODIFIED,
            **problem_responses(400, 429),
        },
    )
    def get(self, request):
        if not _cacheable(request):
            return self.read(request)
        url = request.build_absolute_uri()  # the page's links are absolute: the host is part of it
        rendered, generation = cache.get_list(url, prefetched=getattr(request, "prefetched_cache", None))
        if rendered is None:
            rendered = render_json(self.read(request).data)
            cache.set_list(url, rendered, generation)
        return _cached_json(request, rendered)

    def throttle_prefetch(self, request) -> list[str]:
        """The cache entries the throttle fetches with its count (``shop.kernel.http.throttling``)."""
        return cache.list_keys(request.build_absolute_uri()) if _cacheable(request) else []

    def read(self, request) -> Response:
        """The page from the database (a query parameter that cannot be read is a 400)."""
        query = ProductListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        category_ids = None
        if params.get("category"):
            category_ids = selectors.category_subtree_ids(params["category"])
            if category_ids is None:
                raise ValidationError({"category": ["Unknown category."]})
        queryset, ordering = selectors.product_list(
            selectors.ProductFilter(
                search=params.get("search", ""),
                category_ids=category_ids,
                price_min=params.get("price_min"),
                price_max=params.get("price_max"),
                in_stock=params.get("in_stock"),
                ordering=params.get("ordering"),
            )
        )
        paginator = KeysetPagination(request, ordering=ordering)
        page = paginator.paginate_queryset(queryset)
        return paginator.get_paginated_response(ProductListItemSerializer(page, many=True).data)


class ProductDetailView(APIView):
    """
    One product with its variants, prices and attributes; cached rendered, with an ``ETag`` (304
    to ``If-None-Match``) and ``Cache-Control``.
    """

    @extend_schema(
        operation_id="catalog_products_retrieve",
        summary="Read a product with its variants",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH), *CONDITIONAL_PARAMETERS],
        responses={200: ProductDetailSerializer, **NOT_MODIFIED, **problem_responses(404, 429)},
    )
    def get(self, request, slug: str):
        if not wants_json(request):
            return Response(self.read(slug))
        rendered = cache.get_product(slug, prefetched=getattr(request, "prefetched_cache", None))
        if rendered is None:
            rendered = render_json(self.read(slug))
            cache.set_product(slug, rendered)
        return _cached_json(request, rendered)

    def throttle_prefetch(self, request) -> list[str]:
        """The cache entry the throttle fetches with its count (``shop.kernel.http.throttling``)."""
        return cache.product_keys(self.kwargs["slug"]) if wants_json(request) else []

    @staticmethod
    def read(slug: str) -> dict:
        data = selectors.product_detail(slug)
        if data is None:
            raise NotFound("No product with this slug.")
        return ProductDetailSerializer(data).data
