"""
Price imports (OpenAPI tag integrations): the upload, the job's validation and report, what it
changes in the catalog (prices, ``price_from``, ``PriceChanged`` events, the cached detail), the task run
in-process, and the admin's upload form.
"""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import api as catalog_api
from catalog.events import PriceChanged
from integrations.models import ImportJob
from integrations.services import importing
from integrations.services import price_import as service
from integrations.tasks import price_import as tasks
from tests.catalog.factories import price_of, sellable_product
from tests.events import forget_published, published
from tests.kernel.brokers import intercept
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/integrations/price-imports/"


@pytest.fixture
def run_on_commit(monkeypatch, django_capture_on_commit_callbacks):
    """The enqueued task runs in this process when the upload commits (the worker's job, eagerly)."""
    intercept(monkeypatch, tasks.price_import_run, lambda job_id: tasks.price_import_run(job_id))
    return django_capture_on_commit_callbacks


def csv_file(text: str, name: str = "prices.csv", content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type=content_type)


def upload(client, text: str, **kwargs):
    return client.post(URL, {"file": csv_file(text, **kwargs)}, format="multipart")


def imported(client, run_on_commit, text: str) -> dict:
    """Upload ``text``, run the job on commit, return the job as the GET endpoint shows it."""
    with run_on_commit(execute=True):
        response = upload(client, text)
    assert response.status_code == 202, response.content
    assert set(response.json()) == {"id", "status"}
    shown = client.get(f"{URL}{response.json()['id']}/")
    assert shown.status_code == 200
    return shown.json()


def report(job: dict) -> tuple:
    return job["status"], job["rows_total"], job["rows_applied"], job["rows_rejected"], job["errors"]


def price_events() -> dict[str, dict]:
    return {payload["sku"]: payload for payload in published(PriceChanged)}


class TestValidFile:
    def test_every_row_is_applied_and_reported(self, staff_client, run_on_commit):
        mug = sellable_product(price=["10.00", "10.00"], skus=["MUG-1", "MUG-2"])
        sellable_product(price="5.00", skus=["TEA-1"])
        forget_published()

        job = imported(
            staff_client,
            run_on_commit,
            "sku,amount,currency\nMUG-1,8.50\t,EUR\nMUG-2,12,EUR\nTEA-1,5.00,EUR\nTEA-1,4.20,USD\n",
        )

        assert report(job) == ("done", 4, 4, 0, [])
        assert (price_of("MUG-1"), price_of("MUG-2"), price_of("TEA-1"), price_of("TEA-1", "USD")) == (
            Decimal("8.50"),
            Decimal("12.00"),
            Decimal("5.00"),
            Decimal("4.20"),
        )
        mug.refresh_from_db()
        assert mug.price_from == Decimal("8.50")
        payloads = sorted(
            (p["sku"], p["currency"], p["amount"], p["previous_amount"]) for p in published(PriceChanged)
        )
        # TEA-1 in EUR did not change: no event.
        assert payloads == [
            ("MUG-1", "EUR", "8.50", "10.00"),
            ("MUG-2", "EUR", "12.00", "10.00"),
            ("TEA-1", "USD", "4.20", None),
        ]

    def test_the_cached_product_detail_shows_the_new_price(self, staff_client, run_on_commit, api_client):
        product = sellable_product(price="10.00", skus=["LAMP-1"])
        detail_url = f"/api/v1/catalog/products/{product.slug}/"
        assert api_client.get(detail_url).json()["variants"][0]["price"]["amount"] == "10.00"  # cached now

        imported(staff_client, run_on_commit, "sku,amount,currency\nLAMP-1,7.77,EUR\n")

        body = api_client.get(detail_url).json()
        assert body["variants"][0]["price"]["amount"] == "7.77"
        listed = api_client.get("/api/v1/catalog/products/").json()["results"]
        assert [item["price_from"]["amount"] for item in listed if item["slug"] == product.slug] == ["7.77"]

    def test_a_bom_crlf_and_blank_lines_are_fine(self, staff_client, run_on_commit):
        sellable_product(price=["10.00", "10.00"], skus=["A-1", "A-2"])
        job = imported(
            staff_client, run_on_commit, "\ufeffsku,amount,currency\r\nA-1,1.00,EUR\r\n\r\nA-2,2.00,EUR\r\n"
        )
        assert report(job) == ("done", 2, 2, 0, [])


class TestInvalidRows:
    def test_every_bad_row_is_rejected_with_its_number(self, staff_client, run_on_commit):
        sellable_product(price="10.00", skus=["OK-1"])
        forget_published()
        rows = [
            "NOPE-1,1.00,EUR",  # 2 unknown SKU
            "OK-1,abc,EUR",  # 3 not a decimal
            "OK-1,-1.00,EUR",  # 4 negative
            "OK-1,1.999,EUR",  # 5 three places
            "OK-1,12345678901,EUR",  # 6 too large
            "OK-1,1.00,eur",  # 7 lower case
            "OK-1,1.00,EURO",  # 8 four letters
            "OK-1,1.00",  # 9 two fields
            ",1.00,EUR",  # 10 no SKU
            "OK-1,1e3,EUR",  # 11 exponent
        ]
        job = imported(staff_client, run_on_commit, "sku,amount,currency\n" + "\n".join(rows) + "\n")

        status, total, applied, rejected, errors = report(job)
        assert (status, total, applied, rejected) == ("done", 10, 0, 10)
        assert [error["row"] for error in errors] == list(range(2, 12))
        messages = [error["message"] for error in errors]
        assert messages[0] == "Unknown SKU 'NOPE-1'."
        assert "not a decimal" in messages[1]
        assert "negative" in messages[2]
        assert "more than 2 decimal places" in messages[3]
        assert "too large" in messages[4]
        assert "ISO 4217" in messages[5] and "ISO 4217" in messages[6]
        assert "Expected 3 fields" in messages[7]
        assert messages[8] == "The SKU is missing."
        assert "not a decimal" in messages[9]
        assert price_of("OK-1") == Decimal("10.00")
        assert not price_events()

    def test_duplicates_keep_the_first_row_and_reject_the_later_ones(self, staff_client, run_on_commit):
        sellable_product(price=["10.00", "10.00"], skus=["DUP-1", "DUP-2"])
        job = imported(
            staff_client,
            run_on_commit,
            "sku,amount,currency\nDUP-1,1.00,EUR\nDUP-2,2.00,EUR\nDUP-1,3.00,EUR\nDUP-1,4.00,USD\nDUP-1,5.00,EUR\n",
        )

        assert report(job) == (
            "done",
            5,
            3,
            2,
            [
                {"row": 4, "message": "Duplicate of row 2 (DUP-1 EUR); only the first is applied."},
                {"row": 6, "message": "Duplicate of row 2 (DUP-1 EUR); only the first is applied."},
            ],
        )
        assert (price_of("DUP-1"), price_of("DUP-1", "USD")) == (Decimal("1.00"), Decimal("4.00"))

    def test_a_mixed_file_applies_the_good_rows_in_chunks(
        self, staff_client, monkeypatch, settings, run_on_commit
    ):
        settings.PRICE_IMPORT_CHUNK_ROWS = 2
        product = sellable_product(price=["10.00", "20.00", "30.00"], skus=["MIX-1", "MIX-2", "MIX-3"])
        progress = []
        original = importing.job_progress
        monkeypatch.setattr(
            importing,
            "job_progress",
            lambda job, rep: (progress.append(rep.rows_applied), original(job, rep)),
        )

        job = imported(
            staff_client,
            run_on_commit,
            "sku,amount,currency\nMIX-1,9.00,EUR\nGHOST,1.00,EUR\nMIX-2,x,EUR\nMIX-3,2.50,EUR\nMIX-2,19.00,EUR\n",
        )

        assert report(job) == (
            "done",
            5,
            3,
            2,
            [
                {"row": 3, "message": "Unknown SKU 'GHOST'."},
                {"row": 4, "message": "Amount 'x' is not a decimal number."},
            ],
        )
        assert progress == [1, 3]  # two chunks of two valid rows
        assert (price_of("MIX-1"), price_of("MIX-2"), price_of("MIX-3")) == (
            Decimal("9.00"),
            Decimal("19.00"),
            Decimal("2.50"),
        )
        product.refresh_from_db()
        assert product.price_from == Decimal("2.50")
        assert set(price_events()) >= {"MIX-1", "MIX-2", "MIX-3"}

    def test_errors_are_capped_at_1000_but_every_rejection_is_counted(self, staff_client, run_on_commit):
        lines = "".join(f"X-{index},1.00,eur\n" for index in range(1200))
        job = imported(staff_client, run_on_commit, "sku,amount,currency\n" + lines)

        assert (job["status"], job["rows_total"], job["rows_applied"], job["rows_rejected"]) == (
            "done",
            1200,
            0,
            1200,
        )
        assert len(job["errors"]) == importing.MAX_ERRORS == 1000
        assert job["errors"][0]["row"] == 2 and job["errors"][-1]["row"] == 1001

    def test_a_rejected_row_quotes_at_most_100_characters_of_its_value(self, staff_client, run_on_commit):
        """A 120 KB amount used to be echoed whole in every error: a 44 MB report."""
        sellable_product(price="10.00", skus=["BIG-1"])
        huge = "9" * 120_000
        text = (
            "sku,amount,currency\n"
            f"BIG-1,{huge},EUR\n"  # 2: too large
            f"BIG-1,{'x' * 120_000},EUR\n"  # 3: not a number
            f"{'S' * 120_000},1.00,EUR\n"  # 4: an unknown SKU
            f"BIG-1,1.{huge},EUR\n"  # 5: too many decimal places
            "BIG-1,2.50,EUR\n"  # 6: fine
        )

        job = imported(staff_client, run_on_commit, text)

        assert (job["status"], job["rows_total"], job["rows_applied"], job["rows_rejected"]) == (
            "done",
            5,
            1,
            4,
        )
        errors = {error["row"]: error["message"] for error in job["errors"]}
        assert errors[2] == (
            f"Amount '{'9' * 100}…' (120,000 characters) is too large (at most 10 digits before the point)."
        )
        assert errors[3] == f"Amount '{'x' * 100}…' (120,000 characters) is not a decimal number."
        assert errors[4] == f"Unknown SKU '{'S' * 100}…' (120,000 characters)."
        assert errors[5].startswith("Amount '1.999") and "decimal places for EUR" in errors[5]
        assert all(len(message) <= importing.MAX_MESSAGE_CHARS for message in errors.values())
        assert price_of("BIG-1") == Decimal("2.50")

    def test_a_message_is_cut_whatever_it_quotes(self):
        report = importing.ImportReport()
        report.reject(2, "Something about '" + "z" * 50_000 + "' is wrong.")

        (error,) = report.errors
        assert len(error["message"]) == importing.MAX_MESSAGE_CHARS
        assert error["message"].startswith("Something about 'zzz") and error["message"].endswith(
            "' is wrong."
        )

    def test_a_nul_in_a_field_rejects_its_row(self):
        """PostgreSQL's text cannot hold a NUL: it used to fail the chunk's query and the job."""
        sellable_product(price="10.00", skus=["NUL-1"])
        # Stored as it is (the upload refuses a NUL only in the first 64 KB it reads).
        job = TestTheJob.stored_job(b"sku,amount,currency\nNUL-1\x00,3.00,EUR\nNUL-1,4.00,EUR\n")

        service.price_import_run(job_id=job.pk)

        job.refresh_from_db()
        assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 1, 1)
        assert job.errors == [{"row": 2, "message": importing.NUL_MESSAGE}]
        assert price_of("NUL-1") == Decimal("4.00")


class TestTheJob:
    @staticmethod
    def stored_job(content: bytes) -> ImportJob:
        upload = SimpleUploadedFile("prices.csv", content, content_type="text/csv")
        return importing.job_create(kind=ImportJob.Kind.PRICES, upload=upload, created_by_id=None)

    def test_the_task_runs_a_queued_job_and_a_second_run_changes_nothing(self):
        sellable_product(price="10.00", skus=["RUN-1"])
        job = self.stored_job(b"sku,amount,currency\nRUN-1,3.00,EUR\n")

        tasks.price_import_run(str(job.pk))

        job.refresh_from_db()
        assert (job.status, job.rows_applied, job.started_at is not None, job.finished_at is not None) == (
            "done",
            1,
            True,
            True,
        )
        catalog_api.set_price(sku="RUN-1", amount="4.00", currency="EUR")
        finished_at = job.finished_at

        tasks.price_import_run(str(job.pk))  # a redelivered task

        job.refresh_from_db()
        assert (job.status, job.finished_at) == ("done", finished_at)
        assert price_of("RUN-1") == Decimal("4.00")

    def test_a_job_left_running_by_a_dead_worker_starts_over(self):
        sellable_product(price="10.00", skus=["CRASH-1"])
        job = self.stored_job(b"sku,amount,currency\nCRASH-1,3.00,EUR\nnope,1,EUR\n")
        ImportJob.objects.filter(pk=job.pk).update(status="running", rows_total=1, rows_applied=1)

        service.price_import_run(job_id=job.pk)

        job.refresh_from_db()
        assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == ("done", 2, 1, 1)

    def test_an_unknown_job_is_ignored(self):
        assert service.price_import_run(job_id=uuid.uuid4()) is None

    def test_a_file_that_cannot_be_read_fails_the_job_with_the_reason(self):
        sellable_product(price="10.00", skus=["BAD-1"])
        job = self.stored_job(b"sku,amount,currency\nBAD-1,3.00,EUR\n\xff\xfe,1,EUR\n")

        service.price_import_run(job_id=job.pk, chunk_rows=1)

        job.refresh_from_db()
        assert job.status == "failed"
        assert "not UTF-8" in job.failure
        assert price_of("BAD-1") == Decimal("3.00")  # the chunk before the fault stays applied

    def test_a_missing_file_fails_the_job(self):
        job = self.stored_job(b"sku,amount,currency\nA,1,EUR\n")
        job.file.storage.delete(job.file.name)

        service.price_import_run(job_id=job.pk)

        job.refresh_from_db()
        assert job.status == "failed" and "is missing from the file storage" in job.failure

    def test_the_upload_enqueues_the_task_on_the_prices_queue_after_commit(
        self, staff_client, monkeypatch, django_capture_on_commit_callbacks
    ):
        from django.core.files.storage import default_storage

        from shop.celery import app

        sent = []
        intercept(monkeypatch, tasks.price_import_run, lambda job_id: sent.append(job_id))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = upload(staff_client, "sku,amount,currency\nA,1,EUR\n")
        assert response.json()["status"] == "queued" and sent == []
        for callback in callbacks:
            callback()
        assert sent == [response.json()["id"]]
        route = app.amqp.router.route({}, "integrations.price_import_run")
        assert route["queue"].name == "prices"
        job = ImportJob.objects.get(pk=response.json()["id"])
        assert default_storage.exists(job.file.name) and job.file.name.startswith("imports/")
        assert job.original_name == "prices.csv" and job.kind == "prices"


class TestAccess:
    def test_anonymous_is_401_and_customers_are_403(self, api_client):
        job = ImportJob.objects.create(kind="prices", file="imports/x.csv")
        assert_problem(upload(api_client, "sku,amount,currency\nA,1,EUR\n"), 401, "not_authenticated")
        assert_problem(api_client.get(f"{URL}{job.pk}/"), 401, "not_authenticated")
        customer = get_user_model().objects.create_user("c", "c@example.com", "pw")
        api_client.force_authenticate(customer)
        assert_problem(upload(api_client, "sku,amount,currency\nA,1,EUR\n"), 403, "permission_denied")
        assert_problem(api_client.get(f"{URL}{job.pk}/"), 403, "permission_denied")
        assert ImportJob.objects.count() == 1

    def test_unknown_id_and_other_kinds_are_404(self, staff_client):
        assert_problem(staff_client.get(f"{URL}{uuid.uuid4()}/"), 404, "not_found")
        stock = ImportJob.objects.create(kind="stock", file="imports/x.csv")
        assert_problem(staff_client.get(f"{URL}{stock.pk}/"), 404, "not_found")

    def test_a_queued_job_shows_its_shape(self, staff_client):
        job = ImportJob.objects.create(kind="prices", file="imports/x.csv")
        body = staff_client.get(f"{URL}{job.pk}/").json()
        assert body == {
            "id": str(job.pk),
            "status": "queued",
            "rows_total": 0,
            "rows_applied": 0,
            "rows_rejected": 0,
            "errors": [],
            "failure": "",
        }


class TestBadUploads:
    @pytest.mark.parametrize(
        ("content", "name", "content_type", "code"),
        [
            (b"", "prices.csv", "text/csv", "empty"),
            (b"sku,amount,currency\n", "prices.csv", "text/csv", "empty"),
            (b"sku,amount,currency\n\n\n", "prices.csv", "text/csv", "empty"),
            (b"\x89PNG\r\n\x1a\n\x00\x00", "prices.png", "image/png", "not_csv"),
            (b"sku,amount,currency\nA,1,EUR\n", "prices.xlsx", "application/octet-stream", "not_csv"),
            (b"\xff\xfesku,amount\n", "prices.csv", "text/csv", "not_csv"),
            (b"sku;amount;currency\nA;1;EUR\n", "prices.csv", "text/csv", "bad_header"),
            (b"SKU,Amount,Currency\nA,1,EUR\n", "prices.csv", "text/csv", "bad_header"),
            (b"sku,currency,amount\nA,EUR,1\n", "prices.csv", "text/csv", "bad_header"),
            (b"A,1,EUR\n", "prices.csv", "text/csv", "bad_header"),
        ],
    )
    def test_is_400_and_nothing_is_stored(self, staff_client, content, name, content_type, code):
        file = SimpleUploadedFile(name, content, content_type=content_type)
        response = staff_client.post(URL, {"file": file}, format="multipart")
        assert_problem(response, 400, code)
        assert not ImportJob.objects.exists()

    def test_no_file_is_400(self, staff_client):
        body = assert_problem(staff_client.post(URL, {}, format="multipart"), 400, "invalid")
        assert "file" in body["errors"]

    def test_json_is_415(self, staff_client):
        response = staff_client.post(URL, {"file": "sku,amount,currency"}, format="json")
        assert response.status_code == 415

    def test_too_large_is_400(self, staff_client, settings):
        settings.PRICE_IMPORT_MAX_BYTES = 30
        body = assert_problem(
            upload(staff_client, "sku,amount,currency\nA-LONG-SKU,1.00,EUR\n"), 400, "too_large"
        )
        assert "30 bytes" in body["detail"]
        assert not ImportJob.objects.exists()


class TestAdmin:
    def test_staff_upload_a_price_csv_in_the_admin(self, admin_client, run_on_commit):
        sellable_product(price="10.00", skus=["ADM-1"])
        assert admin_client.get("/admin/integrations/importjob/add/").status_code == 200

        with run_on_commit(execute=True):
            response = admin_client.post(
                "/admin/integrations/importjob/add/",
                {"file": csv_file("sku,amount,currency\nADM-1,6.00,EUR\n")},
            )

        job = ImportJob.objects.get()
        assert response.status_code == 302 and str(job.pk) in response["Location"]
        assert (job.status, job.rows_applied, price_of("ADM-1")) == ("done", 1, Decimal("6.00"))
        assert admin_client.get("/admin/integrations/importjob/").status_code == 200
        assert admin_client.get(f"/admin/integrations/importjob/{job.pk}/change/").status_code == 200

    def test_a_bad_file_is_shown_on_the_form(self, admin_client):
        response = admin_client.post(
            "/admin/integrations/importjob/add/", {"file": csv_file("a,b,c\n1,2,3\n")}
        )
        assert response.status_code == 200
        assert b"must be exactly" in response.content
        assert not ImportJob.objects.exists()

    def test_send_again_enqueues_queued_price_jobs(self, admin_client, monkeypatch):
        sent = []
        intercept(monkeypatch, tasks.price_import_run, lambda job_id: sent.append(job_id))
        queued = ImportJob.objects.create(kind="prices", file="imports/a.csv")
        done = ImportJob.objects.create(kind="prices", file="imports/b.csv", status="done")
        admin_client.post(
            "/admin/integrations/importjob/",
            {"action": "send_again", "_selected_action": [str(queued.pk), str(done.pk)]},
        )
        assert sent == [str(queued.pk)]


class TestMinorUnits:
    """ISO 4217's minor units decide how many decimals a price may have; none is ever rounded."""

    def test_a_bhd_price_round_trips_exactly_through_database_and_api(
        self, staff_client, run_on_commit, api_client, settings
    ):
        from catalog.models import Price
        from tests.catalog.factories import ProductFactory, VariantFactory

        settings.SHOP_CURRENCY = "BHD"
        from inventory import api as inventory_api

        product = ProductFactory(slug="dallah")
        VariantFactory(product=product, sku="DALLAH-1")
        inventory_api.ensure_warehouse(code="main", name="Main")
        inventory_api.set_on_hand(sku="DALLAH-1", warehouse="main", on_hand=5)

        job = imported(staff_client, run_on_commit, "sku,amount,currency\nDALLAH-1,1.234,BHD\n")

        assert report(job) == ("done", 1, 1, 0, [])
        assert Price.objects.get(variant__sku="DALLAH-1", currency="BHD").amount == Decimal("1.234")
        assert price_of("DALLAH-1", "BHD") == Decimal("1.234")
        detail = api_client.get(f"/api/v1/catalog/products/{product.slug}/").json()
        assert detail["variants"][0]["price"] == {"amount": "1.234", "currency": "BHD"}
        listed = api_client.get("/api/v1/catalog/products/").json()["results"]
        assert [item["price_from"] for item in listed] == [{"amount": "1.234", "currency": "BHD"}]
        cart = api_client.post("/api/v1/carts/", {}, format="json").json()["token"]
        lines = api_client.post(
            f"/api/v1/carts/{cart}/lines/", {"sku": "DALLAH-1", "quantity": 3}, format="json"
        )
        assert lines.status_code == 201, lines.content
        body = lines.json()
        assert body["lines"][0]["unit_price"] == {"amount": "1.234", "currency": "BHD"}
        assert body["subtotal"] == {"amount": "3.702", "currency": "BHD"}
        assert price_events()["DALLAH-1"]["amount"] == "1.234"

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ("OK-1,19.999,EUR", "Amount '19.999' has more than 2 decimal places for EUR"),
            ("OK-1,1.2345,BHD", "Amount '1.2345' has more than 3 decimal places for BHD"),
            ("OK-1,100.5,VND", "Amount '100.5' has more than 0 decimal places for VND"),
            ("OK-1,1.00,XAU", "Currency 'XAU' is not an ISO 4217 currency code"),
            ("OK-1,1.00,ABC", "Currency 'ABC' is not an ISO 4217 currency code"),
        ],
    )
    def test_more_places_than_the_currency_has_or_no_currency_is_refused(
        self, staff_client, run_on_commit, row, message
    ):
        sellable_product(skus=["OK-1"], price="5.00")

        job = imported(staff_client, run_on_commit, f"sku,amount,currency\n{row}\n")

        status, total, applied, rejected, errors = report(job)
        assert (status, total, applied, rejected) == ("done", 1, 0, 1)
        assert errors[0]["message"].startswith(message), errors
        assert price_of("OK-1") == Decimal("5.00")

    def test_currencies_with_other_minor_units_are_accepted(self, staff_client, run_on_commit):
        sellable_product(skus=["OK-1"], price="5.00")
        rows = ["OK-1,25000,VND", "OK-1,1500,XOF", "OK-1,1.250,IQD", "OK-1,0.125,KWD", "OK-1,1.2345,CLF"]

        job = imported(staff_client, run_on_commit, "sku,amount,currency\n" + "\n".join(rows) + "\n")

        assert report(job) == ("done", 5, 5, 0, [])
        assert price_of("OK-1", "VND") == Decimal("25000")
        assert price_of("OK-1", "IQD") == Decimal("1.250")
        assert price_of("OK-1", "CLF") == Decimal("1.2345")
