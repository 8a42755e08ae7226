"""
The provisioned Grafana dashboard and the Prometheus alert rules (``deploy/``) query only what the
code exports: every metric name and every label they match or group by is checked against the
metric definitions (prometheus-client's registry, which every metric module registers into, and
the scrape-time collectors' ``describe()``). A renamed metric or label fails here, not silently
on a dashboard.
"""

import json
import re
from importlib import import_module
from pathlib import Path

import pytest
import yaml
from django_prometheus.middleware import Metrics
from prometheus_client import REGISTRY

from shop.kernel.metrics import live_collectors

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "shop.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"

# Series Prometheus adds itself, and the labels it puts on every series it scrapes.
BUILT_IN = {"up": set()}
TARGET_LABELS = {"job", "instance"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<range>\[[^\]]*\])
  | (?P<braces>\{[^}]*\})
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
  | (?P<other>\S)
    """,
    re.VERBOSE,
)
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def exported() -> dict[str, set[str]]:
    """Every series name the code exports, with the labels it may carry."""
    for context in ("cart", "checkout", "inventory", "integrations"):
        import_module(f"{context}.metrics")
    Metrics.get_instance()  # django-prometheus's HTTP metrics, made when its middleware first runs
    series: dict[str, set[str]] = dict(BUILT_IN)
    for collector in list(REGISTRY._collector_to_names):
        name, kind = getattr(collector, "_name", None), getattr(collector, "_type", None)
        if name is None:
            continue
        labels = set(collector._labelnames)
        if kind == "counter":
            series |= {f"{name}_total": labels, f"{name}_created": labels}
        elif kind == "histogram":
            series |= {f"{name}_bucket": labels | {"le"}, f"{name}_sum": labels, f"{name}_count": labels}
        elif kind == "summary":
            series |= {f"{name}_sum": labels, f"{name}_count": labels, name: labels | {"quantile"}}
        else:
            series[name] = labels
    for collector in live_collectors():
        for family in collector.describe():
            series[family.name] = set(family._labelnames)
    return series


def parse(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """PromQL, read as far as names go: ``({metric: {matched labels}}, {grouping labels})``."""
    tokens = [(match.lastgroup, match.group()) for match in TOKEN.finditer(expr)]
    metrics: dict[str, set[str]] = {}
    grouping: set[str] = set()
    index = 0
    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else (None, "")
        if kind == "ident" and text in GROUPING:
            if following[1] == "(":  # by (a, b): label names up to the closing parenthesis
                index += 2
                while tokens[index][1] != ")":
                    if tokens[index][0] == "ident":
                        grouping.add(tokens[index][1])
                    index += 1
        elif kind == "ident" and (following[1] == "(" or following[1] in GROUPING):
            pass  # a function or an aggregation (sum by (...) (...))
        elif kind == "ident" and text.lower() not in KEYWORDS:
            labels = metrics.setdefault(text, set())
            if following[0] == "braces":
                body = following[1][1:-1]
                matched = MATCHER.findall(body)
                assert "".join(m[0] for m in matched), f"matchers not understood: {body!r}"
                labels |= {label for label, _op, _value in matched}
                index += 1
        index += 1
    return metrics, grouping


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def alert_queries() -> list[tuple[str, str]]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [(rule["alert"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def test_the_parser_reads_names_matchers_and_grouping():
    metrics, grouping = parse(
        'sum by (step) (rate(shop_checkout_funnel_total{outcome!="ok", step=~"a|b"}[$__rate_interval]))'
        " / on (step) group_left sum(up) > bool 2 and x"
    )

    assert metrics == {"shop_checkout_funnel_total": {"outcome", "step"}, "up": set(), "x": set()}
    assert grouping == {"step"}


@pytest.mark.parametrize(("where", "expr"), dashboard_queries() + alert_queries())
def test_every_query_names_exported_metrics_with_their_labels(where, expr):
    series = exported()
    metrics, grouping = parse(expr)

    assert metrics, f"{where}: no metric found in {expr!r}"
    for name, labels in metrics.items():
        assert name in series, f"{where}: {name} is not exported"
        unknown = labels - series[name] - TARGET_LABELS
        assert not unknown, f"{where}: {name} has no label {sorted(unknown)}"
    available = set().union(*(series[name] for name in metrics)) | TARGET_LABELS
    assert grouping <= available, f"{where}: grouped by {sorted(grouping - available)}, which no metric has"


def test_the_dashboard_answers_the_business_questions():
    titles = " | ".join(title.lower() for title, _expr in dashboard_queries())
    exprs = " ".join(expr for _title, expr in dashboard_queries())

    for topic in ("funnel", "aborts", "latency per interface", "campaign", "queue depth", "task failures"):
        assert topic in titles, topic
    for topic in ("outbox lag", "p95 per endpoint", "p99 per endpoint"):
        assert topic in titles, topic
    assert 'shop_checkout_funnel_total{outcome!="ok"}' in exprs  # aborts per step: one query
    assert json.loads(DASHBOARD.read_text())["panels"][1]["datasource"]["uid"] == "shop-prometheus"
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["uid"] == "shop-prometheus"


def test_the_alerts_cover_workers_queues_outbox_erp_errors_and_latency():
    alerts = dict(alert_queries())

    assert {
        "ShopQueueNotConsumed",  # a worker down (or stuck)
        "ShopScrapeTargetDown",
        "ShopQueueBackingUp",
        "ShopOutboxLag",
        "ShopErpFailing",
        "ShopErpBreakerOpen",
        "ShopHttp5xxRate",
        "ShopP99OverTarget",
    } <= set(alerts)
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
