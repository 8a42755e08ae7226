"""
The load test's report, from what a run recorded in its folder (no shop, no Locust needed):

- ``locust_stats.csv``, ``locust_stats_history.csv``, ``locust_failures.csv``: Locust's CSV output
  (``--csv <dir>/locust --csv-full-history``), one row an endpoint name;
- ``metrics.jsonl``: the shop's ``/metrics`` scraped before, every few seconds during and after the
  run, one JSON line a scrape: ``{"t": <unix s>, "samples": {"name{label=value,...}": value}}``;
- ``cpu.json``: CPU-seconds (user + system) a process group used during the run, and their series;
- ``meta.json``: the run's settings and times; ``violations.json``: the invariant checker's findings.

``build(run_dir)`` writes ``summary.md`` and the PNG charts beside them and returns the figures.
"""

import csv
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CATALOG_PREFIX = "/api/v1/catalog/"
COMPLETION = "/api/v1/checkouts/[id]/complete/"
FUNNEL_STEPS = (
    "cart_created",
    "line_added",
    "checkout_started",
    "address_set",
    "shipping_set",
    "payment",
    "order_placed",
)
_SAMPLE = re.compile(r"^(?P<name>[^{]+)(?:\{(?P<labels>.*)\})?$")


@dataclass
class Endpoint:
    name: str
    method: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class Summary:
    """The figures of a run, as ``summary.md`` shows them."""

    duration: float
    endpoints: list[Endpoint]
    requests: int
    failures: int
    server_errors: int
    catalog_requests: int
    orders: float
    orders_per_second: float
    funnel: dict[str, dict[str, float]]
    handover_lag_max: float
    handover_pending_max: float
    cpu_seconds: dict[str, float]
    cpu_per_order: dict[str, float | None]
    cpu_per_1000_catalog: dict[str, float | None]
    violations: list[dict] | None
    charts: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations and self.server_errors == 0


def parse_sample(key: str) -> tuple[str, dict[str, str]]:
    """``'name{a="x",b="y"}'`` -> ``('name', {'a': 'x', 'b': 'y'})``."""
    match = _SAMPLE.match(key)
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group("labels") or ""))
    return match.group("name"), labels


def sample_key(name: str, labels: dict[str, str]) -> str:
    """The key ``metrics.jsonl`` stores a sample under (labels sorted)."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


def read_scrapes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def total(samples: dict[str, float], name: str, **match: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``match``."""
    result = 0.0
    for key, value in samples.items():
        sample_name, labels = parse_sample(key)
        if sample_name == name and all(labels.get(k) == v for k, v in match.items()):
            result += value
    return result


def _float(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_endpoints(path: Path) -> tuple[list[Endpoint], Endpoint | None]:
    """Locust's ``*_stats.csv``: one ``Endpoint`` a name (setup reads left out), and the aggregate."""
    rows, aggregate = [], None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            endpoint = Endpoint(
                name=row["Name"],
                method=row["Type"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                rps=_float(row["Requests/s"]),
                p50=_float(row["50%"]),
                p95=_float(row["95%"]),
                p99=_float(row["99%"]),
            )
            if row["Name"] == "Aggregated":
                aggregate = endpoint
            elif row["Name"] != "setup":
                rows.append(endpoint)
    return sorted(rows, key=lambda e: -e.requests), aggregate


def count_server_errors(path: Path) -> int:
    """Failures whose message starts with a 5xx status (``users.ShopUser.call`` writes them so)."""
    if not path.exists():
        return 0
    with path.open(newline="") as handle:
        return sum(
            int(row["Occurrences"])
            for row in csv.DictReader(handle)
            if re.search(r"(^|\W)5\d\d\s", row["Error"] + " ")
        )


def read_history(path: Path) -> dict[str, list[dict]]:
    """Locust's ``*_stats_history.csv`` by name (``Aggregated`` included), rows with numbers."""
    series: dict[str, list[dict]] = {}
    if not path.exists():
        return series
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            series.setdefault(row["Name"], []).append(
                {
                    "t": _float(row["Timestamp"]),
                    "users": _float(row["User Count"]),
                    "rps": _float(row["Requests/s"]),
                    "fps": _float(row["Failures/s"]),
                    "p50": _float(row["50%"]),
                    "p95": _float(row["95%"]),
                    "p99": _float(row["99%"]),
                }
            )
    return series


def _per_unit(seconds: dict[str, float], units: float, scale: float = 1.0) -> dict[str, float | None]:
    return {group: (value / units * scale if units else None) for group, value in seconds.items()}


def summarize(run_dir: Path) -> Summary:
    """The figures of the run recorded in ``run_dir``."""
    meta = json.loads((run_dir / "meta.json").read_text())
    campaign = meta.get("campaign", "loadtest")
    duration = float(meta["duration_measured"])
    endpoints, aggregate = read_endpoints(run_dir / "locust_stats.csv")
    scrapes = read_scrapes(run_dir / "metrics.jsonl")
    first = scrapes[0]["samples"] if scrapes else {}
    last = scrapes[-1]["samples"] if scrapes else {}
    orders = total(last, "shop_orders_placed_by_campaign_total", campaign=campaign) - total(
        first, "shop_orders_placed_by_campaign_total", campaign=campaign
    )
    funnel: dict[str, dict[str, float]] = {}
    for key, value in last.items():
        name, labels = parse_sample(key)
        if name == "shop_checkout_funnel_total":
            delta = value - first.get(key, 0.0)
            if delta:
                funnel.setdefault(labels["step"], {})[labels["outcome"]] = delta
    lag = [total(s["samples"], "shop_erp_handover_oldest_pending_age_seconds") for s in scrapes]
    pending = [
        total(s["samples"], "shop_erp_handovers", status="pending")
        + total(s["samples"], "shop_erp_handovers", status="in_flight")
        for s in scrapes
    ]
    cpu_file = run_dir / "cpu.json"
    cpu = json.loads(cpu_file.read_text())["groups"] if cpu_file.exists() else {}
    catalog_requests = sum(e.requests for e in endpoints if e.name.startswith(CATALOG_PREFIX))
    violations_file = run_dir / "violations.json"
    violations = json.loads(violations_file.read_text()) if violations_file.exists() else None
    return Summary(
        duration=duration,
        endpoints=endpoints,
        requests=aggregate.requests if aggregate else 0,
        failures=aggregate.failures if aggregate else 0,
        server_errors=count_server_errors(run_dir / "locust_failures.csv"),
        catalog_requests=catalog_requests,
        orders=orders,
        orders_per_second=orders / duration if duration else 0.0,
        funnel=funnel,
        handover_lag_max=max(lag, default=0.0),
        handover_pending_max=max(pending, default=0.0),
        cpu_seconds=cpu,
        cpu_per_order=_per_unit(cpu, orders),
        cpu_per_1000_catalog=_per_unit(cpu, catalog_requests, 1000.0),
        violations=violations,
    )


# --- charts -----------------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rates(scrapes: list[dict], name: str, **match: str) -> tuple[list[float], list[float]]:
    """Per-second increase of a counter between consecutive scrapes: (times since start, rates)."""
    times, rates = [], []
    if not scrapes:
        return times, rates
    start = scrapes[0]["t"]
    for before, after in itertools.pairwise(scrapes):
        elapsed = after["t"] - before["t"]
        if elapsed <= 0:
            continue
        delta = total(after["samples"], name, **match) - total(before["samples"], name, **match)
        times.append(after["t"] - start)
        rates.append(max(delta, 0.0) / elapsed)
    return times, rates


def _marks(ax, meta: dict, start: float) -> None:
    fault = meta.get("fault")
    if fault:
        ax.axvspan(
            fault["down_at"] - start, fault["up_at"] - start, color="tab:red", alpha=0.12, label="ERP down"
        )


def draw_charts(run_dir: Path) -> list[str]:
    """throughput.png, latency.png, funnel.png, handover.png in ``run_dir``; their file names."""
    plt = _plt()
    meta = json.loads((run_dir / "meta.json").read_text())
    history = read_history(run_dir / "locust_stats_history.csv")
    scrapes = read_scrapes(run_dir / "metrics.jsonl")
    start = float(meta["started_at"])
    aggregated = history.get("Aggregated", [])
    written = []

    fig, ax = plt.subplots(figsize=(9, 4))
    ts = [row["t"] - start for row in aggregated]
    ax.plot(ts, [row["rps"] for row in aggregated], label="requests/s")
    ax.plot(ts, [row["fps"] for row in aggregated], label="failures/s", color="tab:red")
    t_orders, orders = _rates(
        scrapes, "shop_orders_placed_by_campaign_total", campaign=meta.get("campaign", "")
    )
    ax.plot(t_orders, [o * 10 for o in orders], label="orders/s x 10", color="tab:green")
    users = ax.twinx()
    users.plot(ts, [row["users"] for row in aggregated], color="grey", linestyle=":", label="users")
    users.set_ylabel("users")
    _marks(ax, meta, start)
    ax.set(title="Throughput", xlabel="s since start", ylabel="per second")
    ax.legend(loc="upper left")
    written.append(_save(fig, run_dir / "throughput.png", plt))

    fig, ax = plt.subplots(figsize=(9, 4))
    for p in ("p50", "p95", "p99"):
        ax.plot(ts, [row[p] for row in aggregated], label=f"all requests {p}")
    completion = history.get(COMPLETION, [])
    ax.plot(
        [row["t"] - start for row in completion],
        [row["p95"] for row in completion],
        label="completion p95",
        linestyle="--",
    )
    _marks(ax, meta, start)
    ax.set(title="Latency (Locust's percentiles, 10-s window)", xlabel="s since start", ylabel="ms")
    ax.legend(loc="upper left")
    written.append(_save(fig, run_dir / "latency.png", plt))

    fig, ax = plt.subplots(figsize=(9, 4))
    for step in FUNNEL_STEPS:
        t, rates = _rates(scrapes, "shop_checkout_funnel_total", step=step, outcome="ok")
        if any(rates):
            ax.plot(t, rates, label=step)
    _marks(ax, meta, start)
    ax.set(
        title="Checkout funnel (ok per second, from /metrics)", xlabel="s since start", ylabel="per second"
    )
    ax.legend(loc="upper left", fontsize="small")
    written.append(_save(fig, run_dir / "funnel.png", plt))

    fig, ax = plt.subplots(figsize=(9, 4))
    t = [s["t"] - start for s in scrapes]
    ax.plot(
        t,
        [
            total(s["samples"], "shop_erp_handovers", status="pending")
            + total(s["samples"], "shop_erp_handovers", status="in_flight")
            for s in scrapes
        ],
        label="hand-overs waiting",
    )
    lag = ax.twinx()
    lag.plot(
        t,
        [total(s["samples"], "shop_erp_handover_oldest_pending_age_seconds") for s in scrapes],
        color="tab:orange",
        label="oldest waiting (s)",
    )
    lag.set_ylabel("s")
    _marks(ax, meta, start)
    ax.set(title="ERP hand-over backlog and lag", xlabel="s since start", ylabel="hand-overs")
    ax.legend(loc="upper left")
    lag.legend(loc="upper right")
    written.append(_save(fig, run_dir / "handover.png", plt))
    return written


def _save(fig, path: Path, plt) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


# --- summary.md -------------------------------------------------------------------------------------


def _n(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(summary: Summary, meta: dict) -> str:
    verdict = "PASSED" if summary.passed else "FAILED"
    lines = [
        f"# Load test {meta.get('run_id', '')}: {verdict}",
        "",
        f"Shape `{meta.get('shape')}`, scenario `{meta.get('scenario')}`, {meta.get('users')} users "
        f"(base), {summary.duration:.0f} s against {meta.get('target')}, campaign label "
        f"`{meta.get('campaign')}`, catalog of {meta.get('products', '?')} products.",
        "",
        "| | |",
        "|---|---|",
        f"| orders placed | **{summary.orders:,.0f}** ({summary.orders_per_second:.2f}/s) |",
        f"| requests | {summary.requests:,} ({summary.requests / summary.duration:.1f}/s), "
        f"{summary.failures:,} failed, **{summary.server_errors} 5xx** |",
        f"| catalog requests | {summary.catalog_requests:,} |",
        f"| ERP hand-over | at most {summary.handover_pending_max:.0f} waiting, oldest "
        f"{summary.handover_lag_max:.1f} s |",
    ]
    if summary.violations is None:
        lines.append("| invariants | **not checked** |")
    elif summary.violations:
        lines.append(f"| invariants | **{len(summary.violations)} broken** (below) |")
    else:
        lines.append("| invariants | all hold |")
    lines += ["", "![throughput](throughput.png)", "![latency](latency.png)", ""]
    lines += [
        "## Cost per unit of business",
        "",
        "CPU-seconds (user + system, `/proc/<pid>/stat`, sampled every second, per-pid deltas summed) "
        "of the whole mix, divided by its orders and by its catalog requests: what the mix costs per "
        "unit, not the marginal cost of one request.",
        "",
        "| process group | CPU-s | per order | per 1,000 catalog requests |",
        "|---|---:|---:|---:|",
    ]
    for group, seconds in summary.cpu_seconds.items():
        lines.append(
            f"| {group} | {seconds:.1f} | {_n(summary.cpu_per_order[group], 3)} | "
            f"{_n(summary.cpu_per_1000_catalog[group], 2)} |"
        )
    if not summary.cpu_seconds:
        lines.append("| (not measured: the stack's processes are not on this machine) | | | |")
    lines += [
        "",
        "## Endpoints",
        "",
        "| endpoint | method | requests | req/s | p50 ms | p95 ms | p99 ms | failures |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in summary.endpoints:
        flag = f"**{e.failures}**" if e.failures else "0"
        lines.append(
            f"| `{e.name}` | {e.method} | {e.requests:,} | {e.rps:.2f} | {e.p50:.0f} | {e.p95:.0f} | "
            f"{e.p99:.0f} | {flag} |"
        )
    lines += ["", "## Checkout funnel (from /metrics)", "", "| step | ok | not ok (why) |", "|---|---:|---|"]
    for step in FUNNEL_STEPS + tuple(sorted(set(summary.funnel) - set(FUNNEL_STEPS))):
        outcomes = summary.funnel.get(step, {})
        if not outcomes:
            continue
        others = ", ".join(f"{k} {v:.0f}" for k, v in sorted(outcomes.items()) if k != "ok") or "-"
        lines.append(f"| {step} | {outcomes.get('ok', 0):.0f} | {others} |")
    lines += ["", "![funnel](funnel.png)", "![hand-over](handover.png)", ""]
    if summary.violations:
        lines += ["## Broken invariants", ""]
        lines += [f"- **{v['kind']}**: {v['detail']}" for v in summary.violations]
        lines.append("")
    lines += ["Raw data: `locust_*.csv`, `metrics.jsonl`, `cpu.json`, `meta.json` in this folder.", ""]
    return "\n".join(lines)


def build(run_dir: Path) -> Summary:
    """summary.md and the charts of the run in ``run_dir``; the figures."""
    summary = summarize(run_dir)
    summary.charts = draw_charts(run_dir)
    meta = json.loads((run_dir / "meta.json").read_text())
    (run_dir / "summary.md").write_text(render(summary, meta), encoding="utf-8")
    return summary
