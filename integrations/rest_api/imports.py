"""Price and product imports (OpenAPI tag integrations): staff upload a file and follow its job."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import errors
from integrations.models import ImportJob
from integrations.services import price_import, product_import
from shop.kernel.http.schema import problem_responses

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class PriceImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A UTF-8 CSV whose first line is exactly `sku,amount,currency`; at most "
        "`PRICE_IMPORT_MAX_BYTES` (50 MB by default)."
    )


class ImportQueuedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row in the file; the header is row 1.")
    message = serializers.CharField()


class ImportJobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    rows_total = serializers.IntegerField(help_text="Data rows read so far (all of them once done).")
    rows_applied = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True, help_text="The first 1,000 rejected rows, by row number.")
    failure = serializers.CharField(help_text="Why the job failed (`failed`), else empty.")


class ImportUploadView(APIView):
    """Upload a file for an import of ``kind``: shared by the price and product imports."""

    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]
    upload_serializer: type[serializers.Serializer]

    def create_job(self, *, upload, created_by_id: int | None) -> ImportJob:
        raise NotImplementedError

    def post(self, request):
        """
        Store the file and queue a job on the `prices` queue that validates every row and applies
        the valid ones; follow it with the GET below. 400 `invalid` (no file), `too_large`,
        `empty`, `not_csv` or `bad_header`.
        """
        body = self.upload_serializer(data=request.data)
        if not body.is_valid():
            if "file" in request.FILES and not request.FILES["file"].size:
                raise errors.FileEmpty("The file is empty.")
            raise serializers.ValidationError(body.errors)
        job = self.create_job(upload=body.validated_data["file"], created_by_id=request.user.pk)
        return Response(ImportQueuedSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(APIView):
    """An import's progress and report: shared by the price and product imports."""

    permission_classes = [IsAdminUser]
    kind: str

    def get(self, request, id):
        """The job's status, counts and the first 1,000 errors with their row numbers."""
        job = get_object_or_404(ImportJob.objects.filter(kind=self.kind), pk=id)
        return Response(ImportJobSerializer(job).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="integrations_price_imports_create",
        summary="Upload a price CSV",
        request={"multipart/form-data": PriceImportUploadSerializer},
        responses={202: ImportQueuedSerializer, **problem_responses(400, 401, 403, 429)},
    )
)
class PriceImportListView(ImportUploadView):
    """Upload a price CSV."""

    upload_serializer = PriceImportUploadSerializer

    def create_job(self, *, upload, created_by_id: int | None) -> ImportJob:
        return price_import.price_import_create(upload=upload, created_by_id=created_by_id)


@extend_schema_view(
    get=extend_schema(
        operation_id="integrations_price_imports_retrieve",
        summary="Read a price import's progress and report",
        parameters=[ID_PARAMETER],
        responses={200: ImportJobSerializer, **problem_responses(401, 403, 404, 429)},
    )
)
class PriceImportDetailView(ImportDetailView):
    """A price import's progress and report."""

    kind = ImportJob.Kind.PRICES


class ProductImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A UTF-8 CSV whose first line is exactly "
        "`sku,product_slug,product_name,variant_name,category,description,attributes`, or JSON "
        "lines (`.jsonl`, one object per line with those keys); at most `PRODUCT_IMPORT_MAX_BYTES` "
        "(50 MB by default)."
    )


@extend_schema_view(
    post=extend_schema(
        operation_id="integrations_product_imports_create",
        summary="Upload a product feed",
        request={"multipart/form-data": ProductImportUploadSerializer},
        responses={202: ImportQueuedSerializer, **problem_responses(400, 401, 403, 429)},
    )
)
class ProductImportListView(ImportUploadView):
    """Upload a product (PIM) feed."""

    upload_serializer = ProductImportUploadSerializer

    def create_job(self, *, upload, created_by_id: int | None) -> ImportJob:
        return product_import.product_import_create(upload=upload, created_by_id=created_by_id)


@extend_schema_view(
    get=extend_schema(
        operation_id="integrations_product_imports_retrieve",
        summary="Read a product import's progress and report",
        parameters=[ID_PARAMETER],
        responses={200: ImportJobSerializer, **problem_responses(401, 403, 404, 429)},
    )
)
class ProductImportDetailView(ImportDetailView):
    """A product import's progress and report."""

    kind = ImportJob.Kind.PRODUCTS
