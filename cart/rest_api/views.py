"""
The cart's HTTP API: one view per operation.

A cart is found by its token for whoever may see it (``selectors.cart_for``): an anonymous cart
by anyone holding the token, a customer's cart by that customer only; for everyone else it is a
404, as if it did not exist. Every answer is the whole cart, priced at the catalog's current
prices.
"""

import uuid

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import selectors, services
from cart.errors import CartNotFound
from cart.models import Cart
from cart.rest_api.serializers import (
    CartCreateSerializer,
    CartMergeSerializer,
    CartSerializer,
    LineAddSerializer,
    LineUpdateSerializer,
    cart_data,
)
from shop.kernel.http.schema import problem_responses


def _customer_id(request) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


class CartAPIView(APIView):
    """What the cart's views share: finding the cart and answering with it (errors: ``problems.py``)."""

    def get_cart(self, request, token: uuid.UUID) -> Cart:
        cart = selectors.cart_for(token=token, customer_id=_customer_id(request))
        if cart is None:
            raise CartNotFound
        return cart

    @staticmethod
    def cart_response(cart: Cart, status_code: int = status.HTTP_200_OK) -> Response:
        return CartAPIView.priced_response(selectors.priced_cart(cart), status_code)

    @staticmethod
    def priced_response(priced: selectors.PricedCart, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(cart_data(selectors.detail_of(priced)), status=status_code)


class CartCreateView(CartAPIView):
    """
    Start a cart. Anonymously: a new cart, 201; keep its token. Signed in: the customer's cart,
    201 when it is created, 200 when the customer has one already.
    """

    @extend_schema(
        operation_id="carts_create",
        summary="Create a cart",
        request=CartCreateSerializer,
        responses={
            201: CartSerializer,
            200: OpenApiResponse(CartSerializer, description="The signed-in customer's existing cart."),
            **problem_responses(400, 401, 429),
        },
    )
    def post(self, request):
        CartCreateSerializer(data=request.data).is_valid(raise_exception=True)
        cart, created = services.cart_create(customer_id=_customer_id(request))
        if created:  # a new cart has no lines to read
            return self.priced_response(selectors.priced_cart(cart, lines=[]), status.HTTP_201_CREATED)
        return self.cart_response(cart)


class CartDetailView(CartAPIView):
    """The cart with its lines at the catalog's current prices."""

    @extend_schema(
        operation_id="carts_retrieve",
        summary="Read a cart by its token",
        responses={200: CartSerializer, **problem_responses(401, 404, 429)},
    )
    def get(self, request, token: uuid.UUID):
        cart, lines = selectors.cart_with_lines_for(token=token, customer_id=_customer_id(request))
        if cart is None:
            raise CartNotFound
        return self.priced_response(selectors.priced_cart(cart, lines=lines))


class CartLineAddView(CartAPIView):
    """
    Add a SKU to the cart; a SKU the cart has already gets the quantity added to its line. The
    line's quantity may not exceed 100 nor what the inventory has available.
    """

    @extend_schema(
        operation_id="carts_lines_create",
        summary="Add a SKU to a cart",
        request=LineAddSerializer,
        responses={
            201: CartSerializer,
            **problem_responses(400, 401, 404, 409, 429),
        },
    )
    def post(self, request, token: uuid.UUID):
        body = LineAddSerializer(data=request.data)
        if not body.is_valid():
            self.get_cart(request, token)  # an unknown cart is a 404 before a bad body's 400
            raise ValidationError(body.errors)
        # The service finds the cart as get_cart would, in the statement that locks it.
        priced = services.cart_line_add(token=token, customer_id=_customer_id(request), **body.validated_data)
        return self.priced_response(priced, status.HTTP_201_CREATED)


class CartLineUpdateView(CartAPIView):
    @extend_schema(
        operation_id="carts_lines_partial_update",
        summary="Change a cart line's quantity",
        description="Set the quantity of a line; 0 removes it. A new quantity is checked like an added one.",
        request=LineUpdateSerializer,
        responses={200: CartSerializer, **problem_responses(400, 401, 404, 409, 429)},
    )
    def patch(self, request, token: uuid.UUID, line_id: int):
        cart = self.get_cart(request, token)
        body = LineUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cart_line_update(cart=cart, line_id=line_id, **body.validated_data)
        return self.cart_response(cart)


class CartLineDeleteView(CartAPIView):
    @extend_schema(
        operation_id="carts_lines_destroy",
        summary="Remove a cart line",
        description="Remove a line from the cart.",
        request=None,
        responses={200: CartSerializer, **problem_responses(401, 404, 429)},
    )
    def delete(self, request, token: uuid.UUID, line_id: int):
        cart = self.get_cart(request, token)
        services.cart_line_remove(cart=cart, line_id=line_id)
        return self.cart_response(cart)


class CartLineView(CartLineUpdateView, CartLineDeleteView):
    """
    The URL of one line: Django routes a path to one view, so this joins the two operations'
    views (PATCH and DELETE), each still defined and documented on its own.
    """


class CartMergeView(CartAPIView):
    """
    Signed in: merge the anonymous cart ``token`` into the customer's cart (created if none).
    Quantities of a SKU in both are summed and capped at 100; the anonymous cart is deleted.
    Merging the customer's own cart changes nothing.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="carts_merge",
        summary="Merge an anonymous cart into the customer's cart",
        request=CartMergeSerializer,
        responses={200: CartSerializer, **problem_responses(400, 401, 404, 429)},
    )
    def post(self, request, token: uuid.UUID):
        cart = self.get_cart(request, token)
        CartMergeSerializer(data=request.data).is_valid(raise_exception=True)
        if cart.customer_id == request.user.pk:
            return self.cart_response(cart)
        merged = services.cart_merge(cart=cart, customer_id=request.user.pk)
        return self.cart_response(merged)
