"""Inbound stock sync from the ERP (issue 4, item 6): applied through inventory, idempotent, reported."""

import json

import pytest
from django.core.management import CommandError, call_command

from integrations.models import ImportJob
from integrations.services import stock_sync
from integrations.tasks.stock_sync import stock_sync_run
from inventory import api as inventory_api
from inventory.data import StockLine
from inventory.models import StockMovement
from tests.catalog.factories import sellable_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalog():
    sellable_product(skus=["A-1", "A-2", "B-1"], price=["1.00", "2.00", "3.00"])
    inventory_api.ensure_warehouse(code="main", name="Main")
    inventory_api.ensure_warehouse(code="north", name="North", priority=1)


def run(content: str, name: str = "stock.csv", chunk_rows: int | None = None) -> ImportJob:
    job = stock_sync.stock_sync_create(file=content.encode(), name=name, enqueue=False)
    return stock_sync.stock_sync_apply(str(job.id), chunk_rows=chunk_rows)


def on_hand(sku: str) -> dict[str, int]:
    return {w.code: w.on_hand for w in inventory_api.get_stock(sku=sku).warehouses}


def erp_movements() -> list[tuple]:
    return list(
        StockMovement.objects.filter(reference="erp-sync")
        .order_by("id")
        .values_list("sku", "warehouse__code", "on_hand_delta")
    )


GOOD = "sku,warehouse,on_hand\nA-1,main,5\nA-1,north,2\nA-2,main,7\n"


def test_a_feed_sets_the_levels_with_a_ledger_entry_per_change():
    job = run(GOOD)
    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected, job.errors) == (
        "done",
        3,
        3,
        0,
        [],
    )
    assert on_hand("A-1") == {"main": 5, "north": 2}
    assert on_hand("A-2") == {"main": 7}
    assert erp_movements() == [("A-1", "main", 5), ("A-1", "north", 2), ("A-2", "main", 7)]


def test_the_same_feed_twice_changes_nothing_the_second_time():
    run(GOOD)
    ledger = StockMovement.objects.count()
    job = run(GOOD)
    assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 3, 0)
    assert StockMovement.objects.count() == ledger
    assert on_hand("A-1") == {"main": 5, "north": 2}


def test_a_changed_level_writes_the_difference():
    run(GOOD)
    run("sku,warehouse,on_hand\nA-1,main,3\nA-2,main,7\n")
    assert erp_movements()[-1] == ("A-1", "main", -2)
    assert len(erp_movements()) == 4


@pytest.mark.parametrize("chunk_rows", [1, 3, None], ids=["chunks-of-1", "chunks-of-3", "default-chunks"])
def test_bad_rows_are_rejected_with_their_row_numbers_and_the_rest_applied(chunk_rows):
    inventory_api.set_on_hand(sku="B-1", warehouse="main", on_hand=4)
    inventory_api.reserve(reference="cart-1", lines=[StockLine(sku="B-1", quantity=3)], ttl_seconds=600)
    feed = (
        "sku,warehouse,on_hand\n"
        "A-1,main,5\n"  # 2: fine
        "A-2,nowhere,1\n"  # 3: unknown warehouse
        "A-2,main,-1\n"  # 4: negative
        "A-2,main,lots\n"  # 5: not a number
        "A-2,main,1.5\n"  # 6: not whole
        "B-1,main,2\n"  # 7: below the 3 reserved
        "NOPE,main,1\n"  # 8: unknown SKU
        "A-1,main,6\n"  # 9: A-1 in main twice
        "A-2,main\n"  # 10: a column short
        ",main,1\n"  # 11: no SKU
        "bad sku!,main,1\n"  # 12: malformed SKU
        "A-2,main,8\n"  # 13: fine
    )
    job = run(feed, chunk_rows=chunk_rows)
    assert (job.status, job.rows_total, job.rows_applied, job.rows_rejected) == ("done", 12, 2, 10)
    errors = {error["row"]: error["message"] for error in job.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "nowhere" in errors[3]
    assert "whole number" in errors[4] and "whole number" in errors[5] and "whole number" in errors[6]
    assert "reserved" in errors[7]
    assert "Unknown SKU" in errors[8]
    assert "more than once" in errors[9]
    assert "columns" in errors[10]
    assert "Missing sku" in errors[11]
    assert "Unknown SKU" in errors[12] or "SKU" in errors[12]
    assert on_hand("A-1") == {"main": 5}
    assert on_hand("A-2") == {"main": 8}
    assert on_hand("B-1") == {"main": 4}


def test_json_lines():
    lines = [
        {"sku": "A-1", "warehouse": "main", "on_hand": 4},
        {"sku": "A-2", "warehouse": "north", "on_hand": "3"},
    ]
    content = (
        "\n".join(json.dumps(line) for line in lines)
        + '\n[1, 2]\n{"sku": "A-1", "warehouse": "north", "on_hand": true}\n'
    )
    job = run(content, name="stock.jsonl")
    assert (job.rows_total, job.rows_applied, job.rows_rejected) == (4, 2, 2)
    assert [error["row"] for error in job.errors] == [3, 4]
    assert on_hand("A-1") == {"main": 4}
    assert on_hand("A-2") == {"north": 3}


def test_json_lines_are_recognised_without_the_extension():
    job = run('{"sku": "A-1", "warehouse": "main", "on_hand": 2}\n', name="feed.txt")
    assert (job.status, job.rows_applied) == ("done", 1)


def test_a_wrong_header_fails_the_job():
    job = run("sku,amount\nA-1,5\n")
    assert job.status == "failed"
    assert "header" in job.failure
    assert not StockMovement.objects.filter(reference="erp-sync").exists()


def test_the_task_applies_a_queued_feed_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = stock_sync.stock_sync_create(file=GOOD.encode(), name="stock.csv")
    assert len(callbacks) == 1
    assert stock_sync_run(str(job.id)) == 3
    assert stock_sync_run(str(job.id)) is None  # done: a redelivery does nothing
    assert len(erp_movements()) == 3


def test_the_task_is_routed_to_the_bulk_workers_imports_queue_not_the_erp_workers():
    """A long feed (30-minute limit) must not hold up the ERP hand-overs' worker (``default,erp``)."""
    from shop.celery import app

    assert app.amqp.router.route({}, "integrations.stock_sync_run")["queue"].name == "prices"


def test_the_command_prints_the_report(tmp_path, capsys):
    feed = tmp_path / "stock.csv"
    feed.write_text("sku,warehouse,on_hand\nA-1,main,5\nA-2,nowhere,1\n")
    call_command("sync_stock", str(feed))
    out = capsys.readouterr().out
    assert "done; rows 2, applied 1, rejected 1." in out
    assert "row 3: Unknown warehouse 'nowhere'." in out
    assert ImportJob.objects.get().kind == "stock"


def test_the_command_refuses_a_missing_file_and_reports_a_failed_feed(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("sync_stock", str(tmp_path / "missing.csv"))
    feed = tmp_path / "bad.csv"
    feed.write_text("nothing,useful\n")
    with pytest.raises(CommandError, match="header"):
        call_command("sync_stock", str(feed))


def test_a_huge_value_is_quoted_cut_in_its_error():
    job = run(f"sku,warehouse,on_hand\nA-1,main,{'9' * 120_000}x\nA-1,{'W' * 120_000},1\nA-2,main,3\n")

    assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 1, 2)
    errors = {error["row"]: error["message"] for error in job.errors}
    assert (
        errors[2] == f"on_hand must be a whole number of 0 or more, not '{'9' * 100}…' (120,001 characters)."
    )
    assert errors[3] == f"Unknown warehouse '{'W' * 100}…' (120,000 characters)."


def test_a_nul_rejects_its_row_in_csv_and_in_json_lines():
    csv_job = run("sku,warehouse,on_hand\nA-1\x00,main,5\nA-2,ma\x00in,5\nA-1,main,4\n")
    json_job = run(
        '{"sku": "A-1\\u0000", "warehouse": "main", "on_hand": 5}\n'
        '{"sku": "A-2", "warehouse": "main", "on_hand": 6}\n',
        name="stock.jsonl",
    )

    assert (csv_job.status, csv_job.rows_applied, csv_job.rows_rejected) == ("done", 1, 2)
    assert [error["row"] for error in csv_job.errors] == [2, 3]
    assert all("NUL" in error["message"] for error in csv_job.errors)
    assert (json_job.status, json_job.rows_applied, json_job.rows_rejected) == ("done", 1, 1)
    assert json_job.errors[0]["row"] == 1 and "NUL" in json_job.errors[0]["message"]
    assert on_hand("A-1") == {"main": 4}
    assert on_hand("A-2") == {"main": 6}


def test_a_deeply_nested_json_line_rejects_its_row():
    job = run(
        "[" * 100_000 + "]" * 100_000 + '\n{"sku": "A-1", "warehouse": "main", "on_hand": 2}\n',
        name="s.jsonl",
    )

    assert (job.status, job.rows_applied, job.rows_rejected) == ("done", 1, 1)
    assert job.errors[0]["row"] == 1 and "nested deeper" in job.errors[0]["message"]
