"""ERP hand-overs (OpenAPI tag integrations): staff list them by status and retry dead-lettered ones."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import selectors
from integrations.models import ErpHandover
from integrations.services import erp as erp_services
from shop.kernel.http.pagination import KeysetPagination, Ordering
from shop.kernel.http.schema import PAGE_PARAMETERS, paginated, problem_responses


class HandoverQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=ErpHandover.Status.choices, required=False)


class HandoverSerializer(serializers.Serializer):
    order_number = serializers.CharField()
    status = serializers.ChoiceField(choices=ErpHandover.Status.choices)
    attempts = serializers.IntegerField(help_text="Attempts since creation or the last retry.")
    last_error = serializers.CharField(allow_blank=True, help_text="Why the last attempt failed, if one did.")
    erp_reference = serializers.CharField(allow_blank=True, help_text="The ERP's reference, once delivered.")


class HandoverListView(APIView):
    """ERP hand-overs, newest first."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="integrations_handovers_list",
        summary="List ERP hand-overs",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=ErpHandover.Status.values,
                description="Only hand-overs in this status (`failed`: the dead letters).",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: paginated(HandoverSerializer, "PaginatedHandoverList"),
            **problem_responses(400, 401, 403, 429),
        },
    )
    def get(self, request):
        query = HandoverQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = KeysetPagination(request, ordering=Ordering(("created_at", "id"), descending=True))
        page = paginator.paginate_queryset(selectors.handovers(status=query.validated_data.get("status")))
        return paginator.get_paginated_response(HandoverSerializer(page, many=True).data)


class HandoverRetryView(APIView):
    """Try a failed (dead-lettered) hand-over again."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="integrations_handovers_retry",
        summary="Retry a failed ERP hand-over",
        request=None,
        parameters=[OpenApiParameter("order_number", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={202: HandoverSerializer, **problem_responses(401, 403, 404, 409, 429)},
    )
    def post(self, request, order_number: str):
        """
        Reset a `failed` hand-over to `pending` with no attempts and queue it; 404 for an unknown
        order number, 409 `not_failed` when it is not failed.
        """
        handover = erp_services.handover_retry(order_number=order_number)
        return Response(HandoverSerializer(handover).data, status=status.HTTP_202_ACCEPTED)
