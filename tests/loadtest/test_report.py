"""The load test's report builder on a recorded 20-s run (tests/loadtest/data/run/: trimmed)."""

import json
import re
import shutil
from pathlib import Path

import pytest

from loadtest import report, stages

DATA = Path(__file__).parent / "data" / "run"


@pytest.fixture
def run_dir(tmp_path):
    target = tmp_path / "run"
    shutil.copytree(DATA, target)
    return target


def test_summary_figures_and_charts(run_dir):
    summary = report.build(run_dir)

    assert summary.requests == 900
    assert summary.failures == 28
    assert summary.server_errors == 0
    assert summary.orders == 24
    assert summary.orders_per_second == pytest.approx(24 / 21.65229105949402)
    # Catalog rows: detail 77, category lists 51, search 37, conditional detail 23, categories 13.
    assert summary.catalog_requests == 201
    assert summary.cpu_per_order["web"] == pytest.approx(12.96 / 24)
    assert summary.cpu_per_1000_catalog["web"] == pytest.approx(12.96 / 201 * 1000)
    assert summary.funnel["payment"] == {"ok": 24, "declined": 7}
    assert summary.funnel["order_placed"]["ok"] == 24
    names = {endpoint.name for endpoint in summary.endpoints}
    assert "/api/v1/carts/[token]/lines/" in names  # grouped by endpoint, not by id
    assert "setup" not in names
    assert not [name for name in names if re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", name)]
    assert summary.passed

    text = (run_dir / "summary.md").read_text()
    assert text.startswith("# Load test 20261207T065625Z: PASSED")
    assert "**24** (1.11/s)" in text
    assert "| web | 13.0 | 0.540 | 64.48 |" in text
    assert "| payment | 24 | declined 7 |" in text
    assert "| invariants | all hold |" in text
    for chart in ("throughput.png", "latency.png", "funnel.png", "handover.png"):
        assert chart in summary.charts
        assert (run_dir / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({chart})" in text


def test_broken_invariants_and_5xx_fail_the_run(run_dir):
    (run_dir / "violations.json").write_text(
        json.dumps([{"kind": "oversold", "detail": "SKU X: on hand -1"}])
    )
    with (run_dir / "locust_failures.csv").open("a") as handle:
        handle.write("POST,/api/v1/checkouts/,\"CatchResponseError('503 {}')\",2,x,y\n")

    summary = report.build(run_dir)

    assert summary.server_errors == 2
    assert not summary.passed
    text = (run_dir / "summary.md").read_text()
    assert ": FAILED" in text.splitlines()[0]
    assert "- **oversold**: SKU X: on hand -1" in text


def test_unchecked_invariants_are_said_so(run_dir):
    (run_dir / "violations.json").unlink()

    summary = report.build(run_dir)

    assert summary.violations is None
    assert "| invariants | **not checked** |" in (run_dir / "summary.md").read_text()


def test_campaign_shape_ramps_spikes_five_times_holds_and_decays():
    users = {t: stages.users_at(t, duration=100, base=10) for t in (0, 14, 20, 45, 60, 95, 100)}

    assert users[0] == (1, "ramp")
    assert users[14][1] == "ramp" and users[14][0] < 10
    assert users[20] == (10, "base")
    assert users[45] == (50, "hold")
    assert users[60] == (50, "hold")
    assert users[95] == (10, "after")
    assert users[100] == (0, "done")
