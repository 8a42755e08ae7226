"""Checkout and orders over HTTP: one view per operation (the OpenAPI schema, tag checkout)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import api as cart_api
from checkout import idempotency, pricing, selectors, services
from checkout.errors import PaymentTimeout
from checkout.models import Checkout, Order
from checkout.rest_api.serializers import (
    CheckoutCompleteInput,
    CheckoutCreateInput,
    CheckoutSerializer,
    CheckoutUpdateInput,
    OrderAccessQuery,
    OrderSerializer,
    PlacedOrderSerializer,
    ShippingMethodSerializer,
    checkout_representation,
    order_representation,
)
from shop.kernel.http.pagination import KeysetPagination, Ordering
from shop.kernel.http.problems import Problem, problem_for
from shop.kernel.http.schema import PAGE_PARAMETERS, paginated, problem_responses

IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    # What the view takes: 1 to 255 characters once surrounding whitespace is stripped.
    {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": r"\S"},
    OpenApiParameter.HEADER,
    required=True,
    description=f"1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters, not only spaces; e.g. a UUID. "
    "Missing or blank: 400 `idempotency_key_required`.",
)

ORDER_TOKEN_MAX_LENGTH = 200
ORDER_TOKEN_HEADER = OpenApiParameter(
    "X-Order-Token",
    {"type": "string", "maxLength": ORDER_TOKEN_MAX_LENGTH},
    OpenApiParameter.HEADER,
    description="The order's `access_token` (guests): the way to send it, since a query string ends "
    "up in access logs and proxies. Taken before `?token=`; blank counts as not sent.",
)


def _customer_id(request) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _money(money):
    return None if money is None else {"amount": money.amount, "currency": money.currency}


def checkout_fields(checkout: Checkout, priced: pricing.Pricing | None = None) -> dict:
    """
    The checkout priced, as ``CheckoutSerializer`` takes it (what ``checkout_data`` writes):
    with ``priced`` if the write that answers priced it already, else priced now.
    """
    if priced is None:
        priced = pricing.price_checkout(checkout)
    return {
        "id": checkout.id,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "line_total": _money(line.line_total),
            }
            for line in priced.lines
        ],
        "subtotal": _money(priced.subtotal),
        "shipping_method": checkout.shipping_method or None,
        "shipping_cost": _money(priced.shipping_cost),
        "total": _money(priced.total),
        "email": checkout.email or None,
        "shipping_address": checkout.shipping_address,
        "expires_at": checkout.expires_at,
    }


def checkout_data(checkout: Checkout, priced: pricing.Pricing | None = None) -> dict:
    """The checkout as the API shows it (``priced`` as for ``checkout_fields``)."""
    return checkout_representation(checkout_fields(checkout, priced))


def order_fields(order: Order, *, lines=None) -> dict:
    """The order as ``OrderSerializer`` takes it; ``lines`` if the caller has them (else they are read)."""
    currency = order.currency
    return {
        "number": order.number,
        "status": order.status,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": {"amount": line.unit_price, "currency": currency},
                "line_total": {"amount": line.line_total, "currency": currency},
            }
            for line in (order.lines.all() if lines is None else lines)
        ],
        "subtotal": {"amount": order.subtotal, "currency": currency},
        "shipping_cost": {"amount": order.shipping_cost, "currency": currency},
        "total": {"amount": order.total, "currency": currency},
        "email": order.email,
        "shipping_address": order.shipping_address,
        "shipping_method": order.shipping_method,
        "created_at": order.created_at,
        "erp_reference": order.erp_reference,
        "cancelable": services.order_is_cancelable(order),
    }


def order_data(order: Order, *, access_token: str | None = None, lines=None) -> dict:
    """The order as the API shows it (with its ``access_token`` for the answer of a completion)."""
    data = order_fields(order, lines=lines)
    if access_token is not None:
        data["access_token"] = access_token
    return order_representation(data)


def _checkout_or_404(request, checkout_id) -> Checkout:
    checkout = selectors.checkout_for(checkout_id, _customer_id(request))
    if checkout is None:
        raise NotFound("No such checkout.")
    return checkout


class CheckoutCreateView(APIView):
    """Start a checkout from a cart; its stock is reserved until ``expires_at``."""

    @extend_schema(
        operation_id="checkout_create",
        summary="Start a checkout from a cart (reserves its stock)",
        request=CheckoutCreateInput,
        responses={201: CheckoutSerializer, **problem_responses(400, 404, 409, 429)},
    )
    def post(self, request):
        payload = CheckoutCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        cart = cart_api.get_cart(
            token=payload.validated_data["cart_token"], customer_id=_customer_id(request)
        )
        if cart is None:
            raise NotFound("No such cart.")
        created = services.checkout_create(cart=cart, customer_id=_customer_id(request))
        return Response(checkout_data(created.checkout, created.pricing), status=status.HTTP_201_CREATED)


class CheckoutDetailView(APIView):
    """Read a checkout, or set its e-mail, shipping address and shipping method."""

    @extend_schema(
        operation_id="checkout_retrieve",
        summary="Read a checkout",
        responses={200: CheckoutSerializer, **problem_responses(404)},
    )
    def get(self, request, checkout_id):
        return Response(checkout_data(_checkout_or_404(request, checkout_id)))

    @extend_schema(
        operation_id="checkout_update",
        summary="Set a checkout's e-mail, address or shipping method",
        request=CheckoutUpdateInput,
        responses={200: CheckoutSerializer, **problem_responses(400, 404, 409)},
    )
    def patch(self, request, checkout_id):
        payload = CheckoutUpdateInput(data=request.data)
        if not payload.is_valid():
            _checkout_or_404(request, checkout_id)  # an unknown checkout is a 404 before a bad body's 400
            raise ValidationError(payload.errors)
        # The service finds the checkout as _checkout_or_404 would, in the statement that locks it.
        updated = services.checkout_update(
            checkout_id=checkout_id, customer_id=_customer_id(request), **payload.validated_data
        )
        return Response(checkout_data(updated.checkout, updated.pricing))


class ShippingMethodListView(APIView):
    """The shipping methods offered for the checkout's address, with their prices."""

    @extend_schema(
        operation_id="checkout_shipping_methods",
        summary="List the shipping methods for a checkout's address",
        responses={200: ShippingMethodSerializer(many=True), **problem_responses(404)},
    )
    def get(self, request, checkout_id):
        checkout = _checkout_or_404(request, checkout_id)
        country = (checkout.shipping_address or {}).get("country")
        methods = [
            {"code": method.code, "name": method.name, "price": _money(price)}
            for method, price in pricing.shipping_rates(country)
        ]
        return Response(ShippingMethodSerializer(methods, many=True).data)


class CheckoutCompleteView(APIView):
    """Pay and place the order; idempotent by ``Idempotency-Key``."""

    @extend_schema(
        operation_id="checkout_complete",
        summary="Pay and place the order (idempotent)",
        request=CheckoutCompleteInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: PlacedOrderSerializer, **problem_responses(400, 402, 404, 409, 422, 503)},
    )
    def post(self, request, checkout_id):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise Problem(400, "idempotency_key_required", "The Idempotency-Key header is required.")
        if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise Problem(
                400,
                "invalid",
                f"The Idempotency-Key header is longer than {IDEMPOTENCY_KEY_MAX_LENGTH} characters.",
            )
        checkout = _checkout_or_404(request, checkout_id)
        customer_id = _customer_id(request)
        scope = f"customer:{customer_id}" if customer_id is not None else f"checkout:{checkout.id}"
        fingerprint = idempotency.request_fingerprint(method="POST", path=request.path, body=request.data)
        claimed = idempotency.begin(scope=scope, key=key, fingerprint=fingerprint)
        if isinstance(claimed, idempotency.Replay):
            response = Response(claimed.body, status=claimed.status)
            response["Idempotent-Replayed"] = "true"
            if claimed.status >= 400:
                response.content_type = "application/problem+json"
            return response
        try:
            return self._complete(request, checkout, key, claimed)  # its answer is stored with the order
        except PaymentTimeout:
            idempotency.abandon(claimed)  # nothing happened: the client may retry with the same key
            raise
        except Exception as exc:
            if not isinstance(exc, Problem) and problem_for(exc, self) is None:
                idempotency.abandon(claimed)  # a 500: the key is not spent on it
                raise
            response = self.handle_exception(exc)  # every other answer is final for the key
            idempotency.finish(claimed, status=response.status_code, body=response.data)
            return response

    def _complete(self, request, checkout: Checkout, key: str, claimed) -> Response:
        payload = CheckoutCompleteInput(data=request.data)
        if not payload.is_valid():
            raise Problem(400, "invalid", "The request is not valid; see errors.", errors=payload.errors)
        answer: dict = {}

        def store_answer(placed: services.PlacedOrder) -> None:
            answer["body"] = order_data(placed.order, access_token=placed.access_token, lines=placed.lines)
            idempotency.finish(claimed, status=status.HTTP_201_CREATED, body=answer["body"])

        services.checkout_complete(
            checkout_id=checkout.id,
            payment_token=payload.validated_data["payment_token"],
            idempotency_key=key,
            on_placed=store_answer,
        )
        return Response(answer["body"], status=status.HTTP_201_CREATED)


class OrderListView(APIView):
    """The signed-in customer's orders, newest first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_list",
        summary="List the customer's orders",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(OrderSerializer, "PaginatedOrderList"), **problem_responses(400, 401)},
    )
    def get(self, request):
        paginator = KeysetPagination(request, ordering=Ordering(("created_at", "id"), descending=True))
        page = paginator.paginate_queryset(selectors.orders_of(request.user.pk))
        return paginator.get_paginated_response([order_data(order) for order in page])


def _order_access_token(request) -> str | None:
    """The guest's access token: the ``X-Order-Token`` header, else ``?token=`` (links in e-mails)."""
    query = OrderAccessQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    header = request.headers.get(ORDER_TOKEN_HEADER.name, "").strip()
    if not header:
        return query.validated_data.get("token")
    if len(header) > ORDER_TOKEN_MAX_LENGTH:
        raise Problem(
            400,
            "invalid",
            "The order token is too long.",
            errors={ORDER_TOKEN_HEADER.name: [f"At most {ORDER_TOKEN_MAX_LENGTH} characters."]},
        )
    return header


def _order_or_404(request, number: str) -> Order:
    token = _order_access_token(request)
    order = selectors.order_for(
        number,
        customer_id=_customer_id(request),
        token_digest=services.token_digest(token) if token else None,
    )
    if order is None:
        raise NotFound("No such order.")
    return order


class OrderDetailView(APIView):
    """
    One order, for its customer or anyone holding its access token: a guest sends it in the
    ``X-Order-Token`` header (or, from a link in an e-mail, as ``?token=``).
    """

    @extend_schema(
        operation_id="orders_retrieve",
        summary="Read an order (its customer, or a guest with its token)",
        parameters=[ORDER_TOKEN_HEADER, OrderAccessQuery],
        responses={200: OrderSerializer, **problem_responses(400, 404)},
    )
    def get(self, request, number):
        return Response(order_data(_order_or_404(request, number)))


class OrderCancelView(APIView):
    """
    Cancel an order that fulfilment has not taken yet; its stock comes back and its payment is
    refunded. 409 ``not_cancelable`` once its hand-over to the ERP has begun (``cancelable``
    false), or once it is handed over, shipped, completed or canceled.
    """

    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel an order",
        request=None,
        parameters=[ORDER_TOKEN_HEADER, OrderAccessQuery],
        responses={200: OrderSerializer, **problem_responses(400, 404, 409)},
    )
    def post(self, request, number):
        services.order_cancel(order=_order_or_404(request, number))
        return Response(order_data(_order_or_404(request, number)))
