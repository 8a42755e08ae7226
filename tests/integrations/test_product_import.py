"""
Product imports (PIM): a CSV or JSON-lines feed upserts products and variants through
``catalog.api``; the job's validation and report, what the catalog shows after it (detail,
search, events, read models), the optional ``active`` column that takes a variant off sale, the
task run in-process, and the admin's upload form and "send again" action.
"""

import json
import logging
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import api as catalog_api
from catalog.events import ProductChanged
from catalog.models import Product, Variant
from integrations import errors
from integrations.models import ImportJob
from integrations.services import importing
from integrations.services import product_import as service
from integrations.tasks import product_import as tasks
from tests.catalog.factories import AttributeFactory, CategoryFactory, sellable_product, shown_out_of_stock
from tests.events import published
from tests.kernel.brokers import intercept

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
    payloads = {payload["slug"]: payload for payload in published(ProductChanged)}
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
    events_before = len(published(ProductChanged))

    again = run(feed(text, "products.jsonl", "application/jsonl"))
    assert (again.status, again.rows_applied) == ("done", 2)
    assert len(published(ProductChanged)) == events_before

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
    last = published(ProductChanged)[-1]
    assert (last["slug"], last["change"]) == ("lantern", "updated")


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
    with pytest.raises(errors.ImportFileInvalid) as exc:
        service.product_import_create(upload=feed("sku,amount,currency\nA,1,EUR\n"))
    assert exc.value.code == "bad_header"
    with pytest.raises(errors.ImportFileInvalid) as exc:
        service.product_import_create(upload=feed("[1, 2]\n", "products.jsonl", "application/jsonl"))
    assert exc.value.code == "bad_header"
    with pytest.raises(errors.ImportFileInvalid) as exc:
        service.product_import_create(upload=feed("x", "products.txt", "text/plain"))
    assert exc.value.code == "not_csv"
    assert not ImportJob.objects.exists()


def test_task_runs_in_process_on_commit(catalog_setup, monkeypatch, django_capture_on_commit_callbacks):
    intercept(monkeypatch, tasks.product_import_run, lambda job_id: tasks.product_import_run(job_id))
    with django_capture_on_commit_callbacks(execute=True):
        job = service.product_import_create(upload=feed(VALID_CSV))
    job.refresh_from_db()
    assert (job.kind, job.status, job.rows_applied) == ("products", "done", 3)
    assert service.product_import_run(job_id=job.pk) is None  # done: left alone


@pytest.mark.postgres
def test_search_finds_imported_products(catalog_setup, api_client, run):
    run(feed(VALID_CSV))
    catalog_api.set_price(sku="TNT-1-G", amount="199.00", currency="EUR")
    found = api_client.get(DETAIL, {"search": "storm-proof"}).json()["results"]
    assert [item["slug"] for item in found] == ["alpine-tent"]
    found = api_client.get(DETAIL, {"search": "TNT-1-R"}).json()["results"]
    assert [item["slug"] for item in found] == ["alpine-tent"]


URL = "/api/v1/integrations/product-imports/"


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
    intercept(monkeypatch, tasks.product_import_run, lambda job_id: tasks.product_import_run(job_id))
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


# --- the optional active column / key ----------------------------------------------------------

HEADER_ACTIVE = HEADER.rstrip("\n") + ",active\n"
TENT = ("alpine-tent", "Alpine Tent")


def tent_line(sku: str, variant: str, *active: str) -> str:
    return csv_line(sku, *TENT, variant, "tents", "A storm-proof tent.", "", *active)


def list_entry(api_client, slug: str) -> dict | None:
    """The product as the storefront's list shows it (only products with a ``price_from``)."""
    results = api_client.get(DETAIL).json()["results"]
    return next((item for item in results if item["slug"] == slug), None)


def product_changes(slug: str) -> list[str]:
    return [payload["change"] for payload in published(ProductChanged, slug=slug)]


def test_a_deactivated_variant_leaves_price_from_stock_and_the_product_page(catalog_setup, api_client, run):
    run(feed(HEADER + tent_line("TNT-1-G", "Green") + tent_line("TNT-1-R", "Red")))
    catalog_api.set_price(sku="TNT-1-G", amount="199.00", currency="EUR")
    catalog_api.set_price(sku="TNT-1-R", amount="149.00", currency="EUR")
    shown_out_of_stock("TNT-1-G")
    assert list_entry(api_client, "alpine-tent")["price_from"] == {"amount": "149.00", "currency": "EUR"}
    assert list_entry(api_client, "alpine-tent")["in_stock"] is True  # thanks to the red one
    assert len(api_client.get(f"{DETAIL}alpine-tent/").json()["variants"]) == 2  # now cached

    # The CSV with the active column: empty is true, "No" (any case) is false.
    events_before = len(product_changes("alpine-tent"))
    job = run(feed(HEADER_ACTIVE + tent_line("TNT-1-G", "Green", "") + tent_line("TNT-1-R", "Red", "No")))

    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == ("done", 2, 2, 0)
    entry = list_entry(api_client, "alpine-tent")
    assert entry["price_from"] == {"amount": "199.00", "currency": "EUR"}
    assert entry["in_stock"] is False  # the green one, the only active variant, is sold out
    detail = api_client.get(f"{DETAIL}alpine-tent/").json()  # the cached detail was dropped
    assert [variant["sku"] for variant in detail["variants"]] == ["TNT-1-G"]
    variants = catalog_api.get_variants(skus=["TNT-1-G", "TNT-1-R"])
    assert (variants["TNT-1-G"].is_sellable, variants["TNT-1-R"].is_sellable) == (True, False)
    assert variants["TNT-1-R"].price.amount == Decimal("149.00")  # off sale, nothing deleted
    assert product_changes("alpine-tent")[events_before:] == ["updated"]
    assert Product.objects.get(slug="alpine-tent").sku_text == "TNT-1-G TNT-1-R"

    # A feed without the column (or a row without a value) makes its variants active again.
    events_before = len(product_changes("alpine-tent"))
    job = run(feed(HEADER + tent_line("TNT-1-G", "Green") + tent_line("TNT-1-R", "Red")))
    assert (job.status, job.rows_applied) == ("done", 2)
    entry = list_entry(api_client, "alpine-tent")
    assert (entry["price_from"]["amount"], entry["in_stock"]) == ("149.00", True)
    assert len(api_client.get(f"{DETAIL}alpine-tent/").json()["variants"]) == 2
    assert product_changes("alpine-tent")[events_before:] == ["updated"]


def test_deactivating_every_priced_variant_takes_the_product_off_the_list(catalog_setup, api_client, run):
    run(feed(HEADER + tent_line("TNT-1-G", "Green")))
    catalog_api.set_price(sku="TNT-1-G", amount="199.00", currency="EUR")
    assert list_entry(api_client, "alpine-tent") is not None

    run(feed(HEADER_ACTIVE + tent_line("TNT-1-G", "Green", "false")))

    assert list_entry(api_client, "alpine-tent") is None  # no active price: no price_from
    assert Product.objects.get(slug="alpine-tent").price_from is None
    assert api_client.get(f"{DETAIL}alpine-tent/").json()["variants"] == []
    events_before = len(product_changes("alpine-tent"))
    again = run(feed(HEADER_ACTIVE + tent_line("TNT-1-G", "Green", "FALSE")))
    assert (again.status, again.rows_applied) == ("done", 1)
    assert len(product_changes("alpine-tent")) == events_before  # unchanged: nothing published


def test_csv_active_values_and_bad_values_with_their_row_numbers(catalog_setup, run):
    values = ["true", "TRUE", "1", "yes", "Yes", "", " no ", "false", "False", "0", "NO"]
    bad = ["maybe", "2", "t", "on", "-1"]
    lines = [tent_line(f"V-{index}", f"V{index}", value) for index, value in enumerate(values + bad)]
    text = HEADER_ACTIVE + "".join(lines) + tent_line("V-X", "Short")  # the last row lacks active

    job = run(feed(text), chunk_rows=4)

    first_bad = 2 + len(values)  # header = row 1
    last = first_bad + len(bad)
    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == (
        "done",
        len(values) + len(bad) + 1,
        len(values),
        len(bad) + 1,
    )
    assert job.errors == [
        {
            "row": first_bad + index,
            "message": f"active must be true or false (or 1/0, yes/no; empty = true), not {value!r}.",
        }
        for index, value in enumerate(bad)
    ] + [{"row": last, "message": f"Expected 8 fields ({HEADER_ACTIVE.strip()}), found 7."}]
    active = dict(Variant.objects.values_list("sku", "is_active"))
    assert active == {f"V-{index}": index < 6 for index in range(len(values))}


def test_jsonl_active_key_and_bad_values_with_their_row_numbers(catalog_setup, run):
    base = {"product_slug": "lantern", "product_name": "Lantern", "category": "tents"}
    lines = [
        {**base, "sku": "L-ON", "active": True},  # row 1
        {**base, "sku": "L-OFF", "active": False},  # row 2
        {**base, "sku": "L-NONE"},  # row 3: absent = true
        {**base, "sku": "L-NULL", "active": None},  # row 4: null = true
        {**base, "sku": "L-STR", "active": "false"},  # row 5: a string is not a boolean
        {**base, "sku": "L-INT", "active": 0},  # row 6
        {**base, "sku": "L-OBJ", "active": {"value": False}},  # row 7
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"

    job = run(feed(text, "products.jsonl", "application/jsonl"))

    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == ("done", 7, 4, 3)
    assert job.errors == [
        {"row": 5, "message": 'active must be a JSON boolean (true or false), not "false".'},
        {"row": 6, "message": "active must be a JSON boolean (true or false), not 0."},
        {"row": 7, "message": 'active must be a JSON boolean (true or false), not {"value": false}.'},
    ]
    assert dict(Variant.objects.values_list("sku", "is_active")) == {
        "L-ON": True,
        "L-OFF": False,
        "L-NONE": True,
        "L-NULL": True,
    }


def test_upload_checks_of_the_active_header():
    service.check_upload(feed(HEADER_ACTIVE + "A,a,A,,tents,,,no\n"))  # accepted
    with pytest.raises(errors.ImportFileInvalid) as exc:
        service.check_upload(feed(HEADER.rstrip("\n") + ",enabled\nA,a,A,,tents,,,no\n"))
    assert exc.value.code == "bad_header"
    assert str(exc.value) == (
        "The first line must be exactly "
        "'sku,product_slug,product_name,variant_name,category,description,attributes', "
        "optionally followed by ',active', "
        "not 'sku,product_slug,product_name,variant_name,category,description,attributes,enabled'."
    )
    with pytest.raises(errors.ImportFileInvalid) as exc:
        service.check_upload(feed(HEADER_ACTIVE))
    assert exc.value.code == "empty"


# --- the admin ---------------------------------------------------------------------------------

ADMIN_ADD = "/admin/integrations/importjob/add/"


@pytest.fixture
def sent(monkeypatch):
    """The job ids sent to the product import task instead of the broker, in order."""
    sent: list[str] = []
    intercept(monkeypatch, tasks.product_import_run, lambda job_id: sent.append(job_id))
    return sent


def stored_files() -> set[str]:
    from django.conf import settings

    return {str(path) for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()}


class TestAdmin:
    def test_the_add_page_offers_both_kinds(self, admin_client):
        response = admin_client.get(ADMIN_ADD)
        assert response.status_code == 200
        content = response.content.decode()
        assert 'value="prices"' in content and 'value="products"' in content
        assert f"<code>{HEADER.strip()}</code>, optionally followed by <code>,active</code>" in content

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            (VALID_CSV, "products.csv"),
            (
                '{"sku": "A-1", "product_slug": "a", "product_name": "A", "category": "tents"}\n',
                "products.jsonl",
            ),
        ],
    )
    def test_a_good_feed_is_queued_and_enqueued_on_commit(
        self, admin_client, sent, django_capture_on_commit_callbacks, text, name
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = admin_client.post(ADMIN_ADD, {"kind": "products", "file": feed(text, name)})
            assert sent == []  # not before the commit

        job = ImportJob.objects.get()
        assert (job.kind, job.status, job.original_name) == ("products", "queued", name)
        assert response.status_code == 302
        assert response["Location"] == f"/admin/integrations/importjob/{job.pk}/change/"
        with job.file.open("rb") as stored:
            assert stored.read() == text.encode()
        for callback in callbacks:
            callback()
        assert sent == [str(job.pk)]
        page = admin_client.get(response["Location"])
        assert f"Product import {job.pk} queued." in page.content.decode()

    @pytest.mark.parametrize(
        ("text", "name", "content_type", "code"),
        [
            ("sku,amount,currency\nA,1,EUR\n", "products.csv", "text/csv", "bad_header"),
            (HEADER_ACTIVE, "products.csv", "text/csv", "empty"),
            ("", "products.csv", "text/csv", "empty"),
            ("sku\n", "products.txt", "text/plain", "not_csv"),
            ("[1, 2]\n", "products.jsonl", "application/jsonl", "bad_header"),
        ],
    )
    def test_a_bad_file_shows_the_apis_message_and_nothing_is_stored(
        self,
        admin_client,
        admin_user,
        sent,
        django_capture_on_commit_callbacks,
        text,
        name,
        content_type,
        code,
    ):
        from rest_framework.test import APIClient

        api = APIClient()
        api.force_authenticate(admin_user)
        problem = api.post(
            "/api/v1/integrations/product-imports/",
            {"file": feed(text, name, content_type)},
            format="multipart",
        ).json()
        assert problem["code"] == code
        files_before = stored_files()

        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                ADMIN_ADD, {"kind": "products", "file": feed(text, name, content_type)}
            )

        assert response.status_code == 200
        assert response.context["form"].errors == {"file": [problem["detail"]]}
        assert not ImportJob.objects.exists()
        assert stored_files() == files_before
        assert sent == []

    def test_without_a_kind_the_file_is_a_price_csv_as_before(self, admin_client, sent):
        response = admin_client.post(ADMIN_ADD, {"file": feed(VALID_CSV)})
        assert response.status_code == 200  # a product feed is not a price CSV
        assert "sku,amount,currency" in response.context["form"].errors["file"][0]
        assert not ImportJob.objects.exists()

    def test_send_again_re_sends_queued_jobs_of_every_kind(self, admin_client, sent, monkeypatch):
        from integrations.tasks import price_import as price_tasks
        from integrations.tasks import stock_sync as stock_tasks

        prices_sent: list[str] = []
        stock_sent: list[str] = []
        intercept(monkeypatch, price_tasks.price_import_run, lambda job_id: prices_sent.append(job_id))
        intercept(monkeypatch, stock_tasks.stock_sync_run, lambda job_id: stock_sent.append(job_id))
        queued_products = ImportJob.objects.create(kind="products", file="imports/p.csv")
        done_products = ImportJob.objects.create(kind="products", file="imports/q.csv", status="done")
        queued_prices = ImportJob.objects.create(kind="prices", file="imports/a.csv")
        queued_stock = ImportJob.objects.create(kind="stock", file="imports/s.csv")

        response = admin_client.post(
            "/admin/integrations/importjob/",
            {
                "action": "send_again",
                "_selected_action": [
                    str(job.pk) for job in (queued_products, done_products, queued_prices, queued_stock)
                ],
            },
            follow=True,
        )

        assert sent == [str(queued_products.pk)]
        assert prices_sent == [str(queued_prices.pk)]
        assert stock_sent == [str(queued_stock.pk)]
        assert "3 import(s) sent to the worker." in response.content.decode()
        assert set(ImportJob.objects.filter(sent_at__isnull=False).values_list("pk", flat=True)) == {
            queued_products.pk,
            queued_prices.pk,
            queued_stock.pk,
        }

    def test_send_again_says_which_could_not_be_sent(self, admin_client, monkeypatch):
        def broker_down(job_id):
            raise ConnectionError("broker down")

        intercept(monkeypatch, tasks.product_import_run, broker_down)
        job = ImportJob.objects.create(kind="products", file="imports/p.csv")

        response = admin_client.post(
            "/admin/integrations/importjob/",
            {"action": "send_again", "_selected_action": [str(job.pk)]},
            follow=True,
        )

        content = response.content.decode()
        assert "0 import(s) sent to the worker." in content
        assert "1 import(s) could not be sent (is the broker down?); they stay queued." in content
        job.refresh_from_db()
        assert job.status == "queued"


# --- bad input: nesting, NUL characters, huge values (issue 8, items 4 and 8) -------------------

NESTED = "[" * 100_000 + "]" * 100_000


def test_a_feed_whose_first_line_is_nested_deeply_is_refused_at_upload(staff_client, caplog):
    staff_client.raise_request_exception = False

    with caplog.at_level(logging.WARNING):
        response = staff_client.post(
            URL, {"file": feed(NESTED + "\n", "products.jsonl", "application/jsonl")}, format="multipart"
        )

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "bad_header"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not ImportJob.objects.exists()


def test_nested_json_and_nul_characters_reject_their_rows(catalog_setup, run):
    base = {"product_slug": "lantern", "product_name": "Lantern", "category": "tents"}
    lines = [
        json.dumps({**base, "sku": "L-1"}),  # row 1: fine
        '{"sku": "L-2", "product_slug": "lantern", "x": ' + NESTED + "}",  # row 2: nested
        json.dumps({**base, "sku": "L-3\u0000"}),  # row 3: a NUL in the SKU
        json.dumps({**base, "sku": "L-4", "attributes": {"colour": "gr\u0000een"}}),  # row 4: in a value
        json.dumps({**base, "sku": "L-5"}),  # row 5: fine
    ]

    job = run(feed("\n".join(lines) + "\n", "products.jsonl", "application/jsonl"))

    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == ("done", 5, 2, 3)
    errors = {error["row"]: error["message"] for error in job.errors}
    assert "nested deeper than 32" in errors[2]
    assert "NUL" in errors[3] and "NUL" in errors[4]
    assert set(Variant.objects.values_list("sku", flat=True)) == {"L-1", "L-5"}


def test_nul_characters_and_nested_attributes_in_a_csv_reject_their_rows(catalog_setup):
    text = (
        HEADER
        + csv_line("C-1", "cup", "Cup", "", "tents", "", "")  # 2: fine
        + csv_line("C-2", "cup", "Cup", "", "tents", "", "[" * 5000 + "]" * 5000)  # 3: nested attributes
        + csv_line("C-3\x00", "cup", "Cup", "", "tents", "", "")  # 4: a NUL
        + csv_line("C-4", "cup", "Cup", "", "tents", "", '{"colour": "\\u0000"}')  # 5: a NUL in JSON
    )
    # Stored as it is (the upload refuses a NUL in the first 64 KB it reads, which is all of this).
    job = importing.job_create(kind=ImportJob.Kind.PRODUCTS, upload=feed(text), created_by_id=None)
    service.product_import_run(job_id=job.pk)
    job.refresh_from_db()

    assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 1, 3)
    errors = {error["row"]: error["message"] for error in job.errors}
    assert "nested deeper than 32" in errors[3]
    assert errors[4] == importing.NUL_MESSAGE
    assert "NUL" in errors[5]


def test_a_huge_value_is_quoted_cut_in_its_error(catalog_setup, run):
    base = {"product_slug": "lantern", "product_name": "Lantern", "category": "tents"}
    lines = [
        json.dumps({**base, "sku": "L-1"}),  # 1: fine (the upload reads the first line)
        json.dumps({**base, "sku": "S" * 120_000}),  # 2: a malformed SKU
        json.dumps({**base, "sku": "L-3", "variant_name": ["x"] * 60_000}),  # 3: not a string
        json.dumps({**base, "product_slug": "jar", "sku": "L-4", "category": "c" * 120_000}),  # 4: unknown
    ]

    job = run(feed("\n".join(lines) + "\n", "products.jsonl", "application/jsonl"))

    assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 1, 3)
    errors = {error["row"]: error["message"] for error in job.errors}
    assert errors[2].startswith(f"SKU '{'S' * 100}…' (120,000 characters) is malformed")
    assert errors[3] == f"variant_name must be a string, not {str(['x'] * 60_000)[:100]}…."
    assert f"unknown category '{'c' * 100}…' (120,000 characters)" in errors[4]
    assert all(len(message) <= importing.MAX_MESSAGE_CHARS for message in errors.values())
