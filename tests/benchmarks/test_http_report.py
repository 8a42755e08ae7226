"""
The pure parts of the HTTP benchmark (benchmarks/http): the summary of a run's JSON lines, the
ratio table against the peers and its goals, the comparison with an earlier run, the count of
prepared checkouts, the check of wrk's output and the search words. No server is started.
"""

import json
import re
from pathlib import Path

from benchmarks.http import report
from benchmarks.http.lab import wrk_script_failure
from benchmarks.http.purchase_load import pct
from benchmarks.http.run import SEARCH_WORDS, prepared_count

ROOT = Path(__file__).resolve().parents[2]


def rec(name, rep, rate, *, p50=10.0, p99=20.0, errors=0, unit="req/s"):
    """A JSON line as the lab's lib/record.py writes it."""
    return {"name": name, "rep": rep, "rate": rate, "unit": unit, "p50_ms": p50, "p99_ms": p99,
            "errors": errors, "cmd": "wrk ...", "date": "2026-12-07T03:00:00+00:00"}  # fmt: skip


def run_records(shop_rates=None):
    """Three repetitions of every shop row and peer row; shop rates scaled from the peers' by default."""
    records = []
    peers = {
        "ceiling json-noDB sync": 1000.0,
        "ceiling DRF list-20 sync": 100.0,
        "oscar list-20 sync": 50.0,
        "oscar basket add sync": 20.0,
        "oscar checkout-only (prefilled) sync": 10.0,
        "oscar checkout flow sync": 4.0,
    }
    shop = {
        "shop detail cached": 600.0,
        "shop list-20": 200.0,
        "shop search-20": 160.0,
        "shop cart add": 110.0,
        "shop checkout completion (prepared)": 55.0,
        "shop whole purchase": 22.0,
    }
    shop.update(shop_rates or {})
    for rep in (1, 2, 3):
        for name, rate in {**shop, **peers}.items():
            records.append(rec(name, rep, rate * (0.9, 1.0, 1.1)[rep - 1], p99=200.0))
    return records


def test_summary_is_the_median_of_the_repetitions_with_their_spread_and_every_error():
    records = [rec("x", 1, 30.0, p50=5, p99=50, errors=1), rec("x", 2, 10.0, p50=7, p99=70),
               rec("x", 3, 20.0, p50=6, p99=90, errors=2), rec("y", 1, 1.0, unit="orders/s")]  # fmt: skip
    summaries = report.summarise(records)
    assert list(summaries) == ["x", "y"]
    x = summaries["x"]
    assert (x.runs, x.rate, x.rate_min, x.rate_max) == (3, 20.0, 10.0, 30.0)
    assert (x.p50_ms, x.p99_ms, x.errors, x.unit) == (6, 70, 3, "req/s")
    assert summaries["y"].unit == "orders/s"


def test_every_goal_met_gives_met_rows_and_the_ratio_of_the_medians():
    verdicts = report.verdicts(report.summarise(run_records()))
    assert [v.path.key for v in verdicts] == list(report.PATH_KEYS)
    assert all(v.met for v in verdicts), [v.reasons for v in verdicts]
    listing = next(v for v in verdicts if v.path.key == "list")
    assert [(peer.name, round(ratio, 2)) for peer, _, ratio in listing.ratios] == [
        ("oscar list-20", 4.0),
        ("ceiling DRF list-20", 2.0),
    ]
    table = report.ratio_table(verdicts)
    assert table.count("**met**") == 6
    assert "| product list, 20 a page | 200.0 req/s (180.0-220.0) |" in table
    assert "4.00x<br>2.00x | >= 3x<br>>= 1x |" in table


def test_a_ratio_under_its_goal_is_not_met_and_says_which_peer():
    verdicts = report.verdicts(report.summarise(run_records({"shop cart add": 60.0})))
    add = next(v for v in verdicts if v.path.key == "add")
    assert not add.met
    assert add.reasons == ["3.00x < 5x oscar basket add"]


def test_the_completion_needs_its_p99_under_250_ms():
    records = [r if r["name"] != "shop checkout completion (prepared)" else {**r, "p99_ms": 250.0}
               for r in run_records()]  # fmt: skip
    checkout = next(v for v in report.verdicts(report.summarise(records)) if v.path.key == "checkout")
    assert checkout.reasons == ["p99 250 ms >= 250 ms"]


def test_errors_of_the_shop_or_a_peer_fail_the_row_and_are_flagged():
    records = run_records()
    records[0]["errors"] = 3  # shop detail cached, rep 1
    records[-1]["errors"] = 1  # oscar checkout flow sync, rep 3
    summaries = report.summarise(records)
    verdicts = {v.path.key: v for v in report.verdicts(summaries)}
    assert verdicts["detail"].reasons == ["3 errors"]
    assert verdicts["purchase"].reasons == ["oscar checkout flow: 1 errors"]
    assert "**3 (!)**" in report.measurements_table(summaries)
    assert "**1 errors (!)**" in report.ratio_table(list(verdicts.values()))


def test_a_row_not_measured_is_not_met_and_a_subset_of_paths_is_honoured():
    records = [r for r in run_records() if r["name"] != "oscar list-20 sync"]
    verdicts = report.verdicts(report.summarise(records), paths=["list", "add"])
    assert [v.path.key for v in verdicts] == ["list", "add"]
    assert verdicts[0].reasons == ["oscar list-20: not measured"]
    assert verdicts[1].met


def test_peers_are_found_in_the_worker_mode_of_the_run():
    records = [{**r, "name": r["name"].replace(" sync", " gthread")} for r in run_records()]
    assert all(v.met for v in report.verdicts(report.summarise(records), mode="gthread"))
    assert not any(v.met for v in report.verdicts(report.summarise(records), mode="sync"))


def test_shop_table_without_peers():
    table = report.shop_table(report.summarise(run_records()), paths=["detail", "search"])
    assert (
        table.splitlines()[2] == "| product detail, cached | 600.0 req/s | 540.0-660.0 | 10.00 | 200.00 | 0 |"
    )
    assert len(table.splitlines()) == 4


def test_compare_reads_the_json_lines_beside_a_results_file_and_gives_the_change(tmp_path):
    before = tmp_path / "20261201T000000Z.md"
    before.write_text("# a table\n")
    (tmp_path / "20261201T000000Z.jsonl").write_text("\n".join(json.dumps(r) for r in run_records()) + "\n\n")
    old = report.summarise(report.records_of_results_file(before))
    new = report.summarise(run_records({"shop list-20": 250.0}))
    table = report.compare_table(old, new)
    assert "| product list, 20 a page | 200.0 | 250.0 | +25.0% | 200.0 | 200.0 | 0 / 0 |" in table
    assert "| product detail, cached | 600.0 | 600.0 | +0.0% |" in table


def test_prepared_checkouts_follow_the_best_rate_within_the_labs_bounds():
    assert prepared_count([], 15) == 600  # the lab's 600 prefilled baskets for 15 s
    assert prepared_count([20.0], 15) == 360  # 20 a second for 15 s, and a fifth more
    assert prepared_count([20.0, 30.0, 10.0], 15) == 540
    assert prepared_count([40.0], 15) == 600  # at most the lab's
    assert prepared_count([1.0], 15) == 100  # at least 100
    assert prepared_count([20.0], 3) == 100
    assert prepared_count([20.0], 15, fixed=250) == 250
    # the shop's checkouts: more than the lab's cap once the shop completes faster than 40 a second
    assert prepared_count([45.0], 15, per_second_cap=200) == 810
    assert prepared_count([], 15, per_second_cap=200) == 600
    assert prepared_count([500.0], 15, per_second_cap=200) == 3000


def test_percentiles_are_those_of_the_labs_checkout_client():
    assert pct([], 50) is None
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert (pct(values, 50), pct(values, 99)) == (51.0, 100.0)


def test_wrk_output_with_a_lua_error_before_the_run_is_a_failure():
    ok = "Running 15s test @ http://127.0.0.1:8300\n  2 threads and 32 connections\n"
    assert wrk_script_failure(ok) is None
    failed = "shop_cart_add.lua:13: bad argument #1 to '(for generator)'\n" + ok
    assert "bad argument" in wrk_script_failure(failed)


def test_search_words_are_words_of_the_demo_catalog():
    demo = (ROOT / "catalog" / "demo_data.py").read_text(encoding="utf-8").lower()
    missing = [word for word in SEARCH_WORDS if not re.search(rf"\b{word}\b", demo)]
    assert not missing


# --- CPU per order -------------------------------------------------------------------------


def test_cpu_per_order_divides_what_each_group_used_in_the_span_by_the_orders():
    start = {
        "web": 10.0,
        "worker": 4.0,
        "postgresql (backends of the run's database)": 2.0,
        "redis (whole server)": 1.0,
    }
    end = {
        "web": 13.0,
        "worker": 5.5,
        "postgresql (backends of the run's database)": 3.0,
        "redis (whole server)": 1.1,
        "erp": 0.2,  # started during the span: counted from 0
    }

    per_order = report.cpu_per_order(start, end, orders=200, client_cpu_s=0.6)

    assert per_order == {
        "web (gunicorn)": 15.0,
        "Celery worker": 7.5,
        "PostgreSQL": 5.0,
        "Redis": 0.5,
        "ERP simulator": 1.0,
        "client": 3.0,
        "total": 32.0,
    }
    assert report.cpu_per_order(start, end, orders=0, client_cpu_s=0.6) == {}


def test_the_cpu_table_has_the_median_of_the_repetitions_that_recorded_it():
    def run(rep, web):
        record = rec("shop whole purchase", rep, 10.0, unit="orders/s")
        record["cpu_ms_per_order"] = report.cpu_per_order({}, {"web": web}, orders=1000, client_cpu_s=1.0)
        return record

    records = [run(1, 40.0), run(2, 60.0), run(3, 50.0), rec("shop cart add", 1, 100.0)]

    table = report.cpu_table(records)

    lines = table.splitlines()
    assert lines[0].startswith("| measurement | web (gunicorn) | Celery worker |")
    assert lines[2] == "| shop whole purchase | 50.00 | 0.00 | 0.00 | 0.00 | 0.00 | 1.00 | 51.00 | 3 |"
    assert len(lines) == 3  # the add recorded none
    assert report.cpu_table([rec("shop cart add", 1, 100.0)]) == ""


def test_the_sampler_gives_the_totals_of_the_last_sample_before_a_moment():
    from loadtest.cpu import Sampler

    sampler = Sampler({})
    sampler.series = [{"t": 100.0, "groups": {"web": 1.0}}, {"t": 100.5, "groups": {"web": 2.0}}]

    assert sampler.totals_at(100.4) == {"web": 1.0}
    assert sampler.totals_at(100.5) == {"web": 2.0}
    assert sampler.totals_at(99.0) == {}


def test_instructions_per_request_leave_out_the_preparation_and_the_setup():
    """
    ``inproc.py --instructions``: four whole-process counts; the setup (the same in each) and the
    preparation of the requests (the prepare-only runs) fall out of the difference.
    """
    from benchmarks.http.inproc import SMALL_N, per_request

    setup, prepare, request = 3_000_000_000, 2_000_000, 5_000_000

    def process(n: int, prepare_only: bool) -> int:
        return setup + n * prepare + (0 if prepare_only else n * request)

    counts = {(n, only): process(n, only) for n in (SMALL_N, 60) for only in (False, True)}
    assert per_request(counts, 60) == request


def test_the_results_file_says_how_many_orders_of_the_run_did_not_reach_the_erp():
    assert report.delivery(4197, 0) == "every one of the 4,197 orders the run placed delivered to the ERP"
    assert report.delivery(4197, 3) == "3 of the 4,197 orders the run placed NOT delivered to the ERP"
