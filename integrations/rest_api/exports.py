"""Exports (the OpenAPI schema, tag integrations): staff start a product feed, follow it and download it."""

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from integrations.models import ExportJob
from integrations.services import exports
from shop.kernel.http.schema import problem_responses
from shop.kernel.http.serializers import StrictInputSerializer

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class ExportCreateSerializer(StrictInputSerializer):
    format = serializers.ChoiceField(choices=["csv"], help_text="The feed's format: only `csv`.")


class ExportQueuedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ExportJob.Status.choices)


class ExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ExportJob.Status.choices)
    rows = serializers.IntegerField(help_text="Rows in the feed (header aside), once done.")
    download_url = serializers.SerializerMethodField(help_text="Where staff download the file, once done.")

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.DONE:
            return None
        return reverse("integrations:export-download", args=[job.id], request=self.context.get("request"))


class ExportListView(APIView):
    """Start a product feed."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="integrations_exports_create",
        summary="Start a product feed export",
        request=ExportCreateSerializer,
        responses={202: ExportQueuedSerializer, **problem_responses(400, 401, 403, 429)},
    )
    def post(self, request):
        """
        Queue a CSV feed of every sellable variant (`sku,name,price,currency,availability,url`),
        built by a worker on the `exports` queue; follow it with the GET below.
        """
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = exports.export_create(format=body.validated_data["format"], created_by_id=request.user.pk)
        return Response(ExportQueuedSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    """An export's progress."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="integrations_exports_retrieve",
        summary="Read an export's progress",
        parameters=[ID_PARAMETER],
        responses={200: ExportSerializer, **problem_responses(401, 403, 404, 429)},
    )
    def get(self, request, id):
        """The export's status; `rows` and `download_url` once it is done (`failure` aside)."""
        job = get_object_or_404(ExportJob, pk=id)
        return Response(ExportSerializer(job, context={"request": request}).data)


class ExportDownloadView(APIView):
    """An export's file."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="integrations_exports_download",
        summary="Download an export's CSV",
        parameters=[ID_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV feed."),
            302: OpenApiResponse(
                description="With `EXPORT_DOWNLOAD_REDIRECT`: the feed at a signed URL of the bucket "
                "(`Location`), valid for `AWS_QUERYSTRING_EXPIRE` seconds."
            ),
            **problem_responses(401, 403, 404, 409, 429),
        },
    )
    def get(self, request, id):
        """
        The feed as a CSV file, streamed from the file storage (or, with
        `EXPORT_DOWNLOAD_REDIRECT`, a 302 to a short-lived signed URL of the bucket); 409
        `export_not_ready` until the export is done; 404 `export_file_missing` if its file is
        gone from the storage.
        """
        job = get_object_or_404(ExportJob, pk=id)
        if settings.EXPORT_DOWNLOAD_REDIRECT:
            return HttpResponseRedirect(exports.export_file_url(job))
        stream = exports.export_file_open(job)
        return FileResponse(
            stream,
            as_attachment=True,
            filename=exports.export_file_name(job),
            content_type="text/csv; charset=utf-8",
        )
