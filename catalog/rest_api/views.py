"""The catalog's HTTP API (public, read-only): one view per operation."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors
from catalog.rest_api.serializers import (
    CategorySerializer,
    ProductDetailSerializer,
    ProductListItemSerializer,
    ProductListQuery,
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


class ProductListView(APIView):
    """Listable products with full-text search, filters and keyset pagination."""

    @extend_schema(
        operation_id="catalog_products_list",
        summary="List and search products",
        parameters=[ProductListQuery, *PAGE_PARAMETERS],
        responses={
            200: paginated(ProductListItemSerializer, "PaginatedProductList"),
            **problem_responses(400, 429),
        },
    )
    def get(self, request):
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
    """One product with its variants, prices and attributes."""

    @extend_schema(
        operation_id="catalog_products_retrieve",
        summary="Read a product with its variants",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses={200: ProductDetailSerializer, **problem_responses(404, 429)},
    )
    def get(self, request, slug: str):
        data = selectors.product_detail(slug)
        if data is None:
            raise NotFound("No product with this slug.")
        return Response(ProductDetailSerializer(data).data)
