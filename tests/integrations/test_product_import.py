"""
Product imports (PIM): a CSV or JSON-lines feed upserts products and variants through
``catalog.api``; the job's validation and report, what the catalog shows after it (detail,
search, events, read models), and the task run in-process.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import api as catalog_api
from catalog.data import ProductRow, VariantRow
from catalog.models import Product, Variant
from integrations.models import ImportJob
from integrations.services import importing
from integrations.services import product_import as service
from integrations.tasks import product_import as tasks
from shop.kernel.models import OutboxMessage
from tests.catalog.factories import AttributeFactory, CategoryFactory, sellable_product

pytestmark = pytest.mark.django_db

HEADER = "sku,product_slug,product_name,variant_name,category,description,attributes\n"
DETAIL = "/api/v1/catalog/products/"


@pytest.fixture
def catalog_setup():
    CategoryFactory(slug="tents", name="Tents")
    CategoryFactory(slug="stoves", name="Stoves")
    AttributeFactory(code="colour", kind="text")
    AttributeFactory(code="weight-g", kind="integer")
    AttributeFactory(code="waterproof", kind="boolean")
    AttributeFactory(code="volume-l", kind="decimal")


def feed(text: str, name: str = "products.csv", content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type=content_type)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Store a feed as the upload does (not enqueued), run the job here with its on-commit work."""

    def run(upload: SimpleUploadedFile, *, chunk_rows: int | None = None) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=False):
            job = service.product_import_create(upload=upload)
        with django_capture_on_commit_callbacks(execute=True):
            service.product_import_run(job_id=job.pk, chunk_rows=chunk_rows)
        job.refresh_from_db()
        return job

    return run


def csv_line(*fields) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


VALID_CSV = (
    HEADER
    + csv_line(
        "TNT-1-G",
        "alpine-tent",
        "Alpine Tent",
        "Green",
        "tents",
        "A storm-proof tent.",
        '{"colour": "green", "weight-g": 2100}',
    )
    + csv_line(
        "TNT-1-R",
        "alpine-tent",
        "Alpine Tent",
        "Red",
        "tents",
        "A storm-proof tent.",
        '{"colour": "green", "weight-g": 2100}',
    )
    + csv_line("STV-9", "pocket-stove", "Pocket Stove", "", "stoves", "Boils water fast.", "")
)


def test_csv_feed_creates_products_and_variants(catalog_setup, api_client, run):
    job = run(feed(VALID_CSV), chunk_rows=2)
    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected, job.errors) == (
        "done",
        3,
        3,
        0,
        [],
    )
    body = api_client.get(f"{DETAIL}alpine-tent/").json()
    assert body["name"] == "Alpine Tent" and body["category"] == "tents"
    assert body["description"] == "A storm-proof tent."
    assert body["attributes"] == {"colour": "green", "weight-g": 2100}
    assert [(v["sku"], v["name"]) for v in body["variants"]] == [("TNT-1-G", "Green"), ("TNT-1-R", "Red")]
    stove = api_client.get(f"{DETAIL}pocket-stove/").json()
    assert [(v["sku"], v["name"]) for v in stove["variants"]] == [("STV-9", "Pocket Stove")]
    assert Product.objects.get(slug="alpine-tent").sku_text == "TNT-1-G TNT-1-R"
    events = OutboxMessage.objects.filter(event_type="catalog.ProductChanged").order_by("id")
    payloads = {message.payload["slug"]: message.payload for message in events}
    assert payloads["alpine-tent"]["change"] == "created"
    assert payloads["alpine-tent"]["skus"] == ["TNT-1-G", "TNT-1-R"]
    assert payloads["pocket-stove"]["skus"] == ["STV-9"]


def test_jsonl_feed_and_second_run_updates_without_duplicating(catalog_setup, api_client, run):
    lines = [
        {
            "sku": "LMP-1",
            "product_slug": "lantern",
            "product_name": "Lantern",
            "variant_name": "Small",
            "category": "tents",
            "description": "Bright.",
            "attributes": {"waterproof": True, "volume-l": "1.5"},
        },
        {
            "sku": "LMP-2",
            "product_slug": "lantern",
            "product_name": "Lantern",
            "variant_name": "Large",
            "category": "tents",
            "description": "Bright.",
            "attributes": {"waterproof": True, "volume-l": "1.5"},
        },
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    job = run(feed(text, "products.jsonl", "application/jsonl"))
    assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 2, 0)
    assert api_client.get(f"{DETAIL}lantern/").json()["attributes"] == {
        "volume-l": "1.5000",
        "waterproof": True,
    }
    events_before = OutboxMessage.objects.filter(event_type="catalog.ProductChanged").count()

    again = run(feed(text, "products.jsonl", "application/jsonl"))
    assert (again.status, again.rows_applied) == ("done", 2)
    assert OutboxMessage.objects.filter(event_type="catalog.ProductChanged").count() == events_before

    for line in lines:
        line["product_name"] = "Storm Lantern"
    lines[1]["variant_name"] = "XL"
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    renamed = run(feed(text, "products.jsonl", "application/jsonl"))
    assert (renamed.status, renamed.rows_applied) == ("done", 2)
    assert Product.objects.filter(slug="lantern").count() == 1
    assert Variant.objects.filter(product__slug="lantern").count() == 2
    body = api_client.get(f"{DETAIL}lantern/").json()  # the cached detail was dropped on commit
    assert body["name"] == "Storm Lantern"
    assert [v["name"] for v in body["variants"]] == ["Small", "XL"]
    last = OutboxMessage.objects.filter(event_type="catalog.ProductChanged").order_by("id").last()
    assert (last.payload["slug"], last.payload["change"]) == ("lantern", "updated")


def test_mixed_csv_reports_exact_row_errors(catalog_setup, run):
    sellable_product(slug="existing", skus=["OWNED-1"])
    text = (
        HEADER
        + csv_line("OK-1", "good", "Good", "", "tents", "", "")  # row 2
        + csv_line("", "good", "Good", "", "tents", "", "")  # row 3: no SKU
        + csv_line("BAD-CAT", "nowhere", "Nowhere", "", "caves", "", "")  # row 4
        + csv_line("BAD-ATTR", "odd", "Odd", "", "tents", "", '{"smell": "nice"}')  # row 5
        + csv_line("BAD-TYPE", "heavy", "Heavy", "", "tents", "", '{"weight-g": "heavy"}')  # row 6
        + csv_line("bad sku!", "good", "Good", "", "tents", "", "")  # row 7
        + csv_line("OWNED-1", "good", "Good", "", "tents", "", "")  # row 8: another product's SKU
        + csv_line("OK-1", "good", "Good", "", "tents", "", "")  # row 9: duplicate
        + csv_line("OK-2", "Bad Slug", "Bad", "", "tents", "", "")  # row 10
        + "\n"  # row 11: blank, skipped
        + csv_line("OK-3", "good", "Good", "Three", "tents", "", "")  # row 12
        + csv_line("OK-4", "broken", "Broken", "", "tents", "", "{not json")  # row 13
        + csv_line("OK-5", "short")  # row 14
    )
    job = run(feed(text), chunk_rows=3)
    assert job.status == "done"
    assert (job.rows_total, job.rows_applied, job.rows_rejected) == (12, 2, 10)
    errors = {error["row"]: error["message"] for error in job.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 13, 14]
    assert "Missing sku" in errors[3]
    assert "unknown category 'caves'" in errors[4]
    assert "unknown attribute 'smell'" in errors[5]
    assert "attribute 'weight-g' (integer)" in errors[6]
    assert "malformed" in errors[7]
    assert "belongs to another product ('existing')" in errors[8]
    assert "Duplicate of row 2" in errors[9]
    assert "not a slug" in errors[10]
    assert "not JSON" in errors[13]
    assert "Expected 7 fields" in errors[14]
    assert sorted(Variant.objects.filter(product__slug="good").values_list("sku", flat=True)) == [
        "OK-1",
        "OK-3",
    ]
    assert not Product.objects.filter(slug__in=["nowhere", "odd", "heavy"]).exists()
    assert Variant.objects.get(sku="OWNED-1").product.slug == "existing"


def test_upload_checks():
    with pytest.raises(importing.ImportFileInvalid) as exc:
        service.product_import_create(upload=feed("sku,amount,currency\nA,1,EUR\n"))
    assert exc.value.code == "bad_header"
    with pytest.raises(importing.ImportFileInvalid) as exc:
        service.product_import_create(upload=feed("[1, 2]\n", "products.jsonl", "application/jsonl"))
    assert exc.value.code == "bad_header"
    with pytest.raises(importing.ImportFileInvalid) as exc:
        service.product_import_create(upload=feed("x", "products.txt", "text/plain"))
    assert exc.value.code == "not_csv"
    assert not ImportJob.objects.exists()


def test_task_runs_in_process_on_commit(catalog_setup, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(tasks.product_import_run, "delay", lambda job_id: tasks.product_import_run(job_id))
    with django_capture_on_commit_callbacks(execute=True):
        job = service.product_import_create(upload=feed(VALID_CSV))
    job.refresh_from_db()
    assert (job.kind, job.status, job.rows_applied) == ("products", "done", 3)
    assert service.product_import_run(job_id=job.pk) is None  # done: left alone


def test_upsert_products_refuses_a_bad_row_naming_its_slug(catalog_setup):
    rows = [ProductRow(slug="fine", name="Fine", category_slug="caves", variants=(VariantRow("F-1", "F"),))]
    with pytest.raises(ValueError, match="'fine'"):
        catalog_api.upsert_products(rows=rows)
    assert not Product.objects.filter(slug="fine").exists()


@pytest.mark.postgres
def test_search_finds_imported_products(catalog_setup, api_client, run):
    run(feed(VALID_CSV))
    catalog_api.set_price(sku="TNT-1-G", amount="199.00", currency="EUR")
    found = api_client.get(DETAIL, {"search": "storm-proof"}).json()["results"]
    assert [item["slug"] for item in found] == ["alpine-tent"]
    found = api_client.get(DETAIL, {"search": "TNT-1-R"}).json()["results"]
    assert [item["slug"] for item in found] == ["alpine-tent"]


URL = "/api/v1/integrations/product-imports/"


@pytest.fixture
def staff_client(api_client):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_user("pim", "pim@example.com", "pw", is_staff=True)
    api_client.force_authenticate(staff)
    return api_client


@pytest.mark.parametrize(
    ("text", "name", "content_type"),
    [
        (VALID_CSV, "products.csv", "text/csv"),
        (
            "\n".join(
                json.dumps(
                    {
                        "sku": sku,
                        "product_slug": "alpine-tent",
                        "product_name": "Alpine Tent",
                        "category": "tents",
                    }
                )
                for sku in ("TNT-1-G", "TNT-1-R", "TNT-1-B")
            ),
            "products.jsonl",
            "application/octet-stream",
        ),
    ],
)
def test_endpoints_upload_and_show_the_job(
    catalog_setup, staff_client, monkeypatch, django_capture_on_commit_callbacks, text, name, content_type
):
    monkeypatch.setattr(tasks.product_import_run, "delay", lambda job_id: tasks.product_import_run(job_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(URL, {"file": feed(text, name, content_type)}, format="multipart")
    assert response.status_code == 202, response.content
    shown = staff_client.get(f"{URL}{response.json()['id']}/").json()
    assert (shown["status"], shown["rows_rejected"], shown["errors"], shown["failure"]) == ("done", 0, [], "")
    assert shown["rows_applied"] == shown["rows_total"] == 3
    assert staff_client.get(f"{DETAIL}alpine-tent/").status_code == 200
    price_job = ImportJob.objects.create(kind=ImportJob.Kind.PRICES)
    assert staff_client.get(f"{URL}{price_job.pk}/").status_code == 404


def test_endpoint_refuses_a_bad_header_and_anonymous(staff_client, api_client):
    response = staff_client.post(URL, {"file": feed("sku,amount,currency\nA,1,EUR\n")}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "bad_header"
    api_client.force_authenticate(None)
    assert api_client.post(URL, {"file": feed(VALID_CSV)}, format="multipart").status_code in (401, 403)
