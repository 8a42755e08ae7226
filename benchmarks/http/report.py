"""
The side-by-side table of a run: pure functions over the run's JSON lines (one line per measured
repetition, as the peer lab's ``lib/record.py`` writes them: name, rep, rate, unit, p50_ms, p99_ms,
errors, ...), so that a results file can be summarised, compared and tested without a server.
"""

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Summary:
    """The repetitions of one measurement: median rate with min-max, median p50/p99, errors."""

    name: str
    unit: str
    runs: int
    rate: float
    rate_min: float
    rate_max: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int


@dataclass(frozen=True)
class Peer:
    """A peer measurement a hot path is compared with, and the goal of the ratio shop / peer."""

    name: str
    goal: float


@dataclass(frozen=True)
class HotPath:
    """One row of the issue's table: the shop's measurement and its peers in the same run."""

    key: str
    title: str
    shop: str
    peers: tuple[Peer, ...]
    p99_max_ms: float | None = None


# The measurement names: the shop's are this harness's, the peers' those of the lab's run_*.sh
# (with the worker mode appended, "sync" or "gthread").
HOT_PATHS: tuple[HotPath, ...] = (
    HotPath("detail", "product detail, cached", "shop detail cached", (Peer("ceiling json-noDB", 0.5),)),
    HotPath(
        "list",
        "product list, 20 a page",
        "shop list-20",
        (Peer("oscar list-20", 3.0), Peer("ceiling DRF list-20", 1.0)),
    ),
    HotPath("search", "search, 20 a page", "shop search-20", (Peer("oscar list-20", 3.0),)),
    HotPath("add", "add to cart", "shop cart add", (Peer("oscar basket add", 5.0),)),
    HotPath(
        "checkout",
        "checkout completion (checkout prepared)",
        "shop checkout completion (prepared)",
        (Peer("oscar checkout-only (prefilled)", 5.0),),
        p99_max_ms=250.0,
    ),
    HotPath("purchase", "whole purchase", "shop whole purchase", (Peer("oscar checkout flow", 5.0),)),
)
PATH_KEYS = tuple(path.key for path in HOT_PATHS)


def read_records(path: Path) -> list[dict]:
    """The JSON lines of ``path`` (blank lines skipped)."""
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def summarise(records: Iterable[dict]) -> dict[str, Summary]:
    """One ``Summary`` per measurement name, in the order the names first appear."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(record["name"], []).append(record)
    summaries = {}
    for name, group in groups.items():
        rates = [float(r["rate"]) for r in group]
        p50 = [r["p50_ms"] for r in group if r.get("p50_ms") is not None]
        p99 = [r["p99_ms"] for r in group if r.get("p99_ms") is not None]
        summaries[name] = Summary(
            name=name,
            unit=group[0].get("unit", ""),
            runs=len(group),
            rate=statistics.median(rates),
            rate_min=min(rates),
            rate_max=max(rates),
            p50_ms=statistics.median(p50) if p50 else None,
            p99_ms=statistics.median(p99) if p99 else None,
            errors=sum(int(r.get("errors") or 0) for r in group),
        )
    return summaries


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _find(summaries: dict[str, Summary], name: str, mode: str) -> Summary | None:
    """The summary of ``name`` in worker mode ``mode`` (peers carry it as a suffix), or of ``name``."""
    return summaries.get(f"{name} {mode}") or summaries.get(name)


def measurement_row(summary: Summary) -> str:
    """A Markdown row: name, runs, median rate (min-max), p50, p99, errors (flagged when any)."""
    errors = f"**{summary.errors} (!)**" if summary.errors else "0"
    return (
        f"| {summary.name} | {summary.runs} | {_num(summary.rate)} {summary.unit} "
        f"| {_num(summary.rate_min)}-{_num(summary.rate_max)} | {_num(summary.p50_ms, 2)} "
        f"| {_num(summary.p99_ms, 2)} | {errors} |"
    )


def measurements_table(summaries: dict[str, Summary]) -> str:
    """Every measurement of the run, in the order measured."""
    lines = [
        "| measurement | runs | rate (median) | min-max | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [measurement_row(summary) for summary in summaries.values()]
    return "\n".join(lines)


@dataclass
class Verdict:
    """A hot path's ratios against its peers and whether every goal is met."""

    path: HotPath
    shop: Summary | None
    ratios: list[tuple[Peer, Summary | None, float | None]] = field(default_factory=list)
    met: bool = False
    reasons: list[str] = field(default_factory=list)


def verdicts(
    summaries: dict[str, Summary], *, mode: str = "sync", paths: Sequence[str] = PATH_KEYS
) -> list[Verdict]:
    """
    For each hot path in ``paths``: shop rate / peer rate (medians of the same run) per peer, and
    whether each ratio is at least its goal, the p99 goal holds, and shop and peers had no errors.
    A missing measurement is a goal not met.
    """
    result = []
    for path in HOT_PATHS:
        if path.key not in paths:
            continue
        shop = summaries.get(path.shop)
        verdict = Verdict(path=path, shop=shop)
        if shop is None:
            verdict.reasons.append("not measured")
        elif shop.errors:
            verdict.reasons.append(f"{shop.errors} errors")
        if (
            shop is not None
            and path.p99_max_ms is not None
            and (shop.p99_ms is None or shop.p99_ms >= path.p99_max_ms)
        ):
            verdict.reasons.append(f"p99 {_num(shop.p99_ms, 0)} ms >= {path.p99_max_ms:.0f} ms")
        for peer in path.peers:
            found = _find(summaries, peer.name, mode)
            ratio = (
                shop.rate / found.rate if shop is not None and found is not None and found.rate > 0 else None
            )
            verdict.ratios.append((peer, found, ratio))
            if found is None:
                verdict.reasons.append(f"{peer.name}: not measured")
            elif found.errors:
                verdict.reasons.append(f"{peer.name}: {found.errors} errors")
            if ratio is not None and ratio < peer.goal:
                verdict.reasons.append(f"{ratio:.2f}x < {peer.goal:g}x {peer.name}")
        verdict.met = not verdict.reasons
        result.append(verdict)
    return result


def ratio_table(verdicts_: Sequence[Verdict]) -> str:
    """The issue's table: hot path, shop, each peer with the ratio and its goal, met or not."""
    lines = [
        "| hot path | shop (median, min-max) | shop p50 / p99 ms | errors | peer (median) "
        "| ratio | goal | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for verdict in verdicts_:
        shop = verdict.shop
        shop_cell = (
            "-"
            if shop is None
            else f"{_num(shop.rate)} {shop.unit} ({_num(shop.rate_min)}-{_num(shop.rate_max)})"
        )
        lat = "-" if shop is None else f"{_num(shop.p50_ms, 1)} / {_num(shop.p99_ms, 1)}"
        if verdict.path.p99_max_ms is not None:
            lat += f" (p99 goal < {verdict.path.p99_max_ms:.0f})"
        errors = "-" if shop is None else (f"**{shop.errors} (!)**" if shop.errors else "0")
        peers = "<br>".join(
            f"{peer.name}: {'-' if found is None else _num(found.rate) + ' ' + found.unit}"
            + (f" **{found.errors} errors (!)**" if found is not None and found.errors else "")
            for peer, found, _ in verdict.ratios
        )
        ratios = "<br>".join("-" if ratio is None else f"{ratio:.2f}x" for _, _, ratio in verdict.ratios)
        goals = "<br>".join(f">= {peer.goal:g}x" for peer in verdict.path.peers)
        met = "**met**" if verdict.met else "not met: " + "; ".join(verdict.reasons)
        lines.append(
            f"| {verdict.path.title} | {shop_cell} | {lat} | {errors} | {peers} | {ratios} "
            f"| {goals} | {met} |"
        )
    return "\n".join(lines)


def shop_table(summaries: dict[str, Summary], *, paths: Sequence[str] = PATH_KEYS) -> str:
    """The shop's hot paths alone (a run without peers)."""
    lines = [
        "| hot path | rate (median) | min-max | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for path in HOT_PATHS:
        if path.key not in paths:
            continue
        shop = summaries.get(path.shop)
        if shop is None:
            lines.append(f"| {path.title} | not measured | | | | |")
            continue
        errors = f"**{shop.errors} (!)**" if shop.errors else "0"
        lines.append(
            f"| {path.title} | {_num(shop.rate)} {shop.unit} | {_num(shop.rate_min)}-{_num(shop.rate_max)} "
            f"| {_num(shop.p50_ms, 2)} | {_num(shop.p99_ms, 2)} | {errors} |"
        )
    return "\n".join(lines)


def _change(before: float | None, now: float | None) -> str:
    if before is None or now is None or before == 0:
        return "-"
    return f"{(now - before) / before * 100:+.1f}%"


def compare_table(before: dict[str, Summary], now: dict[str, Summary]) -> str:
    """The shop's hot paths of this run against an earlier run's: rates and p99, with the change."""
    lines = [
        "| hot path | before | now | change | p99 before | p99 now | errors before / now |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in HOT_PATHS:
        old, new = before.get(path.shop), now.get(path.shop)
        if old is None and new is None:
            continue
        lines.append(
            f"| {path.title} | {_num(old.rate if old else None)} | {_num(new.rate if new else None)} "
            f"| {_change(old.rate if old else None, new.rate if new else None)} "
            f"| {_num(old.p99_ms if old else None)} | {_num(new.p99_ms if new else None)} "
            f"| {old.errors if old else '-'} / {new.errors if new else '-'} |"
        )
    return "\n".join(lines)


def records_of_results_file(path: Path) -> list[dict]:
    """The JSON lines of a results file: ``X.jsonl`` itself, or the ``X.jsonl`` beside ``X.md``."""
    if path.suffix != ".jsonl":
        path = path.with_suffix(".jsonl")
    return read_records(path)


# --- CPU per order ------------------------------------------------------------------------------

#: The process groups of the shop's stack as ``loadtest.cpu.Sampler`` names them, and their columns.
CPU_GROUPS: tuple[tuple[str, str], ...] = (
    ("web", "web (gunicorn)"),
    ("worker", "Celery worker"),
    ("postgresql (backends of the run's database)", "PostgreSQL"),
    ("redis (whole server)", "Redis"),
    ("erp", "ERP simulator"),
)


def cpu_per_order(start: dict[str, float], end: dict[str, float], orders: int, client_cpu_s: float) -> dict:
    """
    Milliseconds of CPU per order by process group, between two ``Sampler`` totals (the timed
    part's start, and after the worker drained what the run left it), and the client's own.
    """
    if orders <= 0:
        return {}
    per_order = {
        label: round((end.get(group, 0.0) - start.get(group, 0.0)) * 1000 / orders, 2)
        for group, label in CPU_GROUPS
    }
    per_order["client"] = round(client_cpu_s * 1000 / orders, 2)
    per_order["total"] = round(sum(per_order.values()), 2)
    return per_order


def cpu_table(records: Iterable[dict]) -> str:
    """
    Median CPU ms per order by process group of each shop measurement that recorded it (the
    completion and whole-purchase rows), with the repetitions it is the median of.
    """
    by_name: dict[str, list[dict]] = {}
    for record in records:
        if record.get("cpu_ms_per_order"):
            by_name.setdefault(record["name"], []).append(record["cpu_ms_per_order"])
    if not by_name:
        return ""
    columns = [label for _, label in CPU_GROUPS] + ["client", "total"]
    lines = [
        "| measurement | " + " | ".join(columns) + " | runs |",
        "|---|" + "---|" * (len(columns) + 1),
    ]
    for name, runs in by_name.items():
        cells = [_num(statistics.median(run.get(column, 0.0) for run in runs), 2) for column in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {len(runs)} |")
    return "\n".join(lines)


def delivery(placed: int, undelivered: int) -> str:
    """The results file's words for the orders a run placed and how many did not reach the ERP."""
    if not undelivered:
        return f"every one of the {placed:,} orders the run placed delivered to the ERP"
    return f"{undelivered:,} of the {placed:,} orders the run placed NOT delivered to the ERP"
