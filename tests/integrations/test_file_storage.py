"""
Files that cross processes: an uploaded import that a worker reads, an export that a worker writes
and the web server hands out. They go through Django's default storage, which every process must
see (one MEDIA_ROOT, a volume shared in compose, or a bucket); a file that is not there is a clear
job failure or a 404 problem+json, never a crash or a 500.
"""

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import api as catalog_api
from integrations.models import ExportJob, ImportJob
from integrations.services import exports, price_import, product_import, stock_sync
from integrations.tasks.exports import export_feed
from integrations.tasks.price_import import price_import_run
from integrations.tasks.product_import import product_import_run
from integrations.tasks.stock_sync import stock_sync_run
from tests.catalog.factories import sellable_product
from tests.celery_worker import wait_for
from tests.problems import assert_problem

EXPORTS = "/api/v1/integrations/exports/"
PRICE_IMPORTS = "/api/v1/integrations/price-imports/"
MISSING = "is missing from the file storage"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def stored_job(kind: str) -> ImportJob:
    """A queued import job of ``kind`` whose file was stored through its service, unsent."""
    if kind == "prices":
        return price_import.price_import_create(upload=upload("p.csv", b"sku,amount,currency\nA-1,1,EUR\n"))
    if kind == "products":
        header = ",".join(product_import.HEADER)
        return product_import.product_import_create(
            upload=upload("p.csv", f"{header}\nA-1,lamp,Lamp,Small,lights,,{{}}\n".encode())
        )
    return stock_sync.stock_sync_create(
        file=b"sku,warehouse,on_hand\nA-1,main,1\n", name="s.csv", enqueue=False
    )


TASKS = {"prices": price_import_run, "products": product_import_run, "stock": stock_sync_run}


@pytest.mark.django_db
class TestAFileThatIsGone:
    @pytest.mark.parametrize("kind", ["prices", "products", "stock"])
    def test_its_import_job_fails_with_a_clear_error_through_its_task(self, kind):
        job = stored_job(kind)
        default_storage.delete(job.file.name)

        TASKS[kind](str(job.pk))  # the task as a worker runs it: no exception, no retry

        job.refresh_from_db()
        assert job.status == "failed"
        assert job.failure.startswith(f"The uploaded file {job.file.name!r} {MISSING}")
        assert "Upload the file again" in job.failure
        assert job.finished_at is not None
        TASKS[kind](str(job.pk))  # a redelivery leaves a failed job alone
        assert ImportJob.objects.get(pk=job.pk).finished_at == job.finished_at

    def test_its_export_downloads_as_a_404_problem(self, staff_client):
        sellable_product(skus=["GONE-1"])
        job = exports.export_create()
        export_feed(str(job.pk))
        job.refresh_from_db()
        default_storage.delete(job.file.name)

        response = staff_client.get(f"{EXPORTS}{job.pk}/download/")

        body = assert_problem(response, 404, "export_file_missing")
        assert MISSING in body["detail"] and "start a new export" in body["detail"]
        detail = staff_client.get(f"{EXPORTS}{job.pk}/").json()
        assert detail["status"] == "done"  # the job says what it built; the download says it is gone


@pytest.mark.django_db
class TestObjectStorage:
    """
    Downloads with ``EXPORT_DOWNLOAD_REDIRECT`` on S3 storage (django-storages): a URL signed
    locally, so no request leaves the test but the bucket's answer to "is it there?", stubbed.
    """

    @pytest.fixture
    def s3(self, settings, monkeypatch):
        """The default storage as the settings make it from a bucket's environment variables."""
        import environ
        from storages.backends.s3 import S3Storage

        from shop.settings.storage import s3_storage

        for name, value in {
            "AWS_STORAGE_BUCKET_NAME": "shop-media",
            "AWS_S3_ENDPOINT_URL": "http://minio.invalid:9000",
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test-key",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
        }.items():
            monkeypatch.setenv(name, value)
        settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environ.Env())}
        settings.EXPORT_DOWNLOAD_REDIRECT = True
        objects = {"exports/feed.csv"}
        monkeypatch.setattr(S3Storage, "exists", lambda storage, name: name in objects)
        return objects

    def done_export(self) -> ExportJob:
        return ExportJob.objects.create(status="done", rows=1, file="exports/feed.csv")

    def test_a_download_redirects_to_a_signed_url_of_the_bucket(self, s3, staff_client):
        job = self.done_export()

        response = staff_client.get(f"{EXPORTS}{job.pk}/download/")

        assert response.status_code == 302
        url = urlsplit(response["Location"])
        query = parse_qs(url.query)
        assert (url.scheme, url.netloc, url.path) == (
            "http",
            "minio.invalid:9000",
            "/shop-media/exports/feed.csv",
        )
        assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
        assert query["X-Amz-Credential"][0].startswith("test-key/")
        assert query["response-content-disposition"] == [f'attachment; filename="feed-{job.pk}.csv"']
        assert (
            staff_client.get(f"{EXPORTS}{job.pk}/")
            .json()["download_url"]
            .endswith(f"{EXPORTS}{job.pk}/download/")
        )  # the contract: the shop's download URL, whatever the storage

    def test_a_file_gone_from_the_bucket_is_a_404_problem(self, s3, staff_client):
        job = self.done_export()
        s3.clear()

        assert_problem(staff_client.get(f"{EXPORTS}{job.pk}/download/"), 404, "export_file_missing")


def worker_with_its_own_var_dir(celery_worker, tmp_path, **env):
    """
    A worker on the bulk queues as compose runs one: a container of its own, so a VAR_DIR of its
    own, and MEDIA_ROOT only if ``env`` gives it.
    """
    return celery_worker(queues=["prices", "exports"], env={"VAR_DIR": str(tmp_path / "worker-var"), **env})


def staff() -> object:
    from rest_framework.test import APIClient

    user = get_user_model().objects.create_user("bulk", "bulk@example.com", "pw", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


def finished(model, job_id) -> bool:
    return model.objects.filter(pk=job_id, status__in=["done", "failed"]).exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_web_and_a_worker_with_separate_var_dirs_and_one_media_root_import_and_export(
    celery_worker, tmp_path, settings
):
    shared = tmp_path / "shared-media"
    settings.MEDIA_ROOT = shared  # the web process (this test) stores here, as compose's web does
    worker = worker_with_its_own_var_dir(celery_worker, tmp_path, MEDIA_ROOT=str(shared))
    sellable_product(skus=["SHARED-1"], price="10.00")
    client = staff()

    response = client.post(
        PRICE_IMPORTS, {"file": upload("prices.csv", b"sku,amount,currency\nSHARED-1,12.50,EUR\n")}
    )
    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    assert wait_for(lambda: finished(ImportJob, import_id), seconds=60), worker.log()
    job = ImportJob.objects.get(pk=import_id)
    assert (job.status, job.rows_applied, job.failure) == ("done", 1, "")
    assert str(catalog_api.get_variants(skus=["SHARED-1"])["SHARED-1"].price.amount) == "12.50"

    export_id = client.post(EXPORTS, {"format": "csv"}, format="json").json()["id"]
    assert wait_for(lambda: finished(ExportJob, export_id), seconds=60), worker.log()
    download = client.get(client.get(f"{EXPORTS}{export_id}/").json()["download_url"])
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[1][:3] == ["SHARED-1", rows[1][1], "12.50"]
    assert (shared / ExportJob.objects.get(pk=export_id).file.name).is_file()  # written where web reads


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_does_not_share_the_media_root_fails_the_import_clearly_and_its_export_is_a_404(
    celery_worker, tmp_path
):
    """The compose layout before the shared volume: each container had a media folder of its own."""
    worker = worker_with_its_own_var_dir(celery_worker, tmp_path)
    sellable_product(skus=["APART-1"], price="10.00")
    client = staff()

    response = client.post(
        PRICE_IMPORTS, {"file": upload("prices.csv", b"sku,amount,currency\nAPART-1,1,EUR\n")}
    )
    import_id = response.json()["id"]
    assert wait_for(lambda: finished(ImportJob, import_id), seconds=60), worker.log()
    job = ImportJob.objects.get(pk=import_id)
    assert job.status == "failed"
    assert job.failure.startswith(f"The uploaded file {job.file.name!r} {MISSING}")
    assert "No such file" not in job.failure  # not the worker's local path and errno

    export_id = client.post(EXPORTS, {"format": "csv"}, format="json").json()["id"]
    assert wait_for(lambda: finished(ExportJob, export_id), seconds=60), worker.log()
    assert ExportJob.objects.get(pk=export_id).status == "done"
    assert_problem(client.get(f"{EXPORTS}{export_id}/download/"), 404, "export_file_missing")


@pytest.mark.django_db
def test_the_admin_links_a_done_export_to_the_apis_download_and_names_an_imports_file(admin_client):
    """A link to the file itself would need MEDIA_ROOT served (it is not) or a bucket's URL."""
    export = ExportJob.objects.create(status="done", rows=1, file="exports/feed.csv")
    job = ImportJob.objects.create(kind="prices", file="imports/prices.csv")

    export_page = admin_client.get(f"/admin/integrations/exportjob/{export.pk}/change/")
    import_page = admin_client.get(f"/admin/integrations/importjob/{job.pk}/change/")

    assert export_page.status_code == 200
    assert f'<a href="{EXPORTS}{export.pk}/download/">exports/feed.csv</a>' in export_page.text
    assert import_page.status_code == 200
    assert "imports/prices.csv" in import_page.text and 'href="imports/prices.csv"' not in import_page.text
