"""
The shop's metrics of processes, HTTP and asynchronous work, and the checkout funnel's counter.

Every process of a machine writes its samples to prometheus-client's multiprocess folder
(``shop.kernel.metrics_files``; ``PROMETHEUS_MULTIPROC_DIR``), and ``/metrics`` (``shop.metrics``)
serves ``scrape_registry()``: the sum over the processes, and gauges computed at scrape time from
the database and the broker (``LiveCollector`` here; a context adds its own with
``register_live_collector``, from its ``apps.py``). The README's "Metrics" section lists them all.

Defined here:

- ``shop_checkout_funnel_total{step, outcome}``: one counter for the whole purchase, so that the
  aborts per step are one query (``sum by (step) (increase(shop_checkout_funnel_total{outcome!="ok"}[1h]))``).
  The kernel holds it because two contexts count into it and neither may import the other's
  internals; each declares its steps as ``FunnelStep`` objects in its own ``metrics.py`` (cart:
  ``cart_created``, ``line_added``; checkout: ``checkout_started``, ``address_set``,
  ``shipping_set``, ``payment``, ``order_placed``; inventory: ``reservation``). ``outcome`` is
  ``ok`` or why the step failed (the problem code: ``insufficient_stock``, ``reservation_expired``,
  ``declined``, ...). Successes are counted on commit, so that rolled-back work is not counted.
- ``shop_http_requests_by_campaign_total{campaign, context}``: requests by marketing campaign
  (``utm_campaign`` query parameter or ``X-Campaign`` header, bounded by ``METRICS_CAMPAIGNS``:
  another value is ``other``, none is ``none``) and by the context whose view answered.
- ``shop_celery_tasks_total{task, queue, outcome}`` and ``shop_celery_task_duration_seconds{task,
  queue}``: every task a worker ran (Celery's signals), with ``succeeded``, ``failed``,
  ``retried`` or ``rejected``/``ignored``.
- At scrape time: ``shop_celery_queue_length{queue}`` (messages waiting in the broker),
  ``shop_outbox_lag_seconds`` (age of the oldest unsent outbox row, 0 when none waits),
  ``shop_outbox_unsent`` , ``shop_queue_last_consumed_age_seconds{queue}`` (since a worker last
  consumed the queue's heartbeat; +Inf when none ever did) and ``shop_beat_last_run_age_seconds``
  (since beat sent the newest heartbeat a worker consumed).
"""

import contextvars
import functools
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

FUNNEL = Counter(
    "shop_checkout_funnel_total",
    "Steps of the purchase by outcome: ok, or why the step failed.",
    ["step", "outcome"],
)
REQUESTS_BY_CAMPAIGN = Counter(
    "shop_http_requests_by_campaign_total",
    "HTTP requests by campaign (utm_campaign or X-Campaign; METRICS_CAMPAIGNS, else other) and context.",
    ["campaign", "context"],
)
TASKS = Counter(
    "shop_celery_tasks_total",
    "Celery tasks run, by task, queue and outcome (succeeded, failed, retried, rejected, ignored).",
    ["task", "queue", "outcome"],
)
TASK_SECONDS = Histogram(
    "shop_celery_task_duration_seconds",
    "How long Celery tasks ran, by task and queue.",
    ["task", "queue"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800),
)

NO_CAMPAIGN = "none"
OTHER_CAMPAIGN = "other"


# --- the funnel ---------------------------------------------------------------------------------


class FunnelStep:
    """
    One step of the checkout funnel. ``outcomes`` maps the exceptions that end the step to the
    outcome they count as (``None``: not this step's to count, e.g. a payment declined seen by
    the completion, which the ``payment`` step counts); any other exception counts as ``error``.

    Used as a decorator of the service that performs the step: success is counted when the
    transaction it ran in commits (at once outside one), a failure when it is raised.
    """

    def __init__(self, step: str, outcomes: Mapping[type[BaseException], str | None] | None = None):
        self.step = step
        self.outcomes = dict(outcomes or {})

    def count(self, outcome: str = "ok", amount: float = 1) -> None:
        FUNNEL.labels(self.step, outcome).inc(amount)

    def count_on_commit(self, outcome: str = "ok", amount: float = 1) -> None:
        transaction.on_commit(functools.partial(self.count, outcome, amount))

    def outcome_of(self, exc: BaseException) -> str | None:
        for kind, outcome in self.outcomes.items():
            if isinstance(exc, kind):
                return outcome
        return "error"

    def count_failure(self, exc: BaseException) -> None:
        outcome = self.outcome_of(exc)
        if outcome is not None:
            self.count(outcome)

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def counted(*args, **kwargs):
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                self.count_failure(exc)
                raise
            self.count_on_commit()
            return result

        return counted


# --- campaigns ----------------------------------------------------------------------------------

_campaign: contextvars.ContextVar[str] = contextvars.ContextVar("shop_campaign", default=NO_CAMPAIGN)


def campaign_of(value: str | None) -> str:
    """The campaign label of a raw value: itself if ``METRICS_CAMPAIGNS`` lists it, else ``other``."""
    value = (value or "").strip().lower()
    if not value:
        return NO_CAMPAIGN
    return value if value in settings.METRICS_CAMPAIGNS else OTHER_CAMPAIGN


def campaign_of_request(request) -> str:
    """A request's campaign label: its ``X-Campaign`` header, else its ``utm_campaign`` parameter."""
    return campaign_of(request.META.get("HTTP_X_CAMPAIGN") or request.GET.get("utm_campaign"))


def count_request_by_campaign(campaign: str, context: str) -> None:
    """Count one request of ``campaign`` answered by ``context`` (what ``CampaignMiddleware`` counts)."""
    REQUESTS_BY_CAMPAIGN.labels(campaign, context).inc()


def current_campaign() -> str:
    """The campaign of the request being served (``none`` outside a request or without one)."""
    return _campaign.get()


def _context_of(request) -> str:
    answered_by = getattr(request, "answered_by_context", None)  # a middleware that answered itself
    if answered_by:
        return answered_by
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "none"
    parts = (getattr(match.func, "__module__", "") or "").split(".")
    if parts[0] == "shop" and len(parts) > 1 and parts[1] == "accounts":
        return "accounts"
    return parts[0] or "none"


class CampaignMiddleware:
    """
    Counts every request by campaign and by the context that answered it, and makes the campaign
    known to what the request does (``current_campaign``: the orders it places). No I/O.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        campaign = campaign_of_request(request)
        token = _campaign.set(campaign)
        try:
            response = self.get_response(request)
        finally:
            _campaign.reset(token)
        count_request_by_campaign(campaign, _context_of(request))
        return response


# --- Celery tasks -------------------------------------------------------------------------------

_task_started: dict[str, float] = {}


def _queue_of(task) -> str:
    info = getattr(task.request, "delivery_info", None) or {}
    return info.get("routing_key") or info.get("exchange") or "none"


def task_started(task_id: str, **_) -> None:
    _task_started[task_id] = time.monotonic()


def task_finished(task_id: str, task, state: str | None = None, **_) -> None:
    started = _task_started.pop(task_id, None)
    queue = _queue_of(task)
    outcome = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}.get(state or "", "")
    TASKS.labels(task.name, queue, outcome or (state or "unknown").lower()).inc()
    if started is not None:
        TASK_SECONDS.labels(task.name, queue).observe(time.monotonic() - started)


def connect_celery_signals() -> None:
    """Count tasks (every process runs this at start: only workers run tasks) and keep the folder."""
    from celery import signals

    signals.task_prerun.connect(task_started, weak=False, dispatch_uid="shop.metrics.task_prerun")
    signals.task_postrun.connect(task_finished, weak=False, dispatch_uid="shop.metrics.task_postrun")
    signals.worker_init.connect(_worker_init, weak=False, dispatch_uid="shop.metrics.worker_init")
    signals.worker_ready.connect(_worker_ready, weak=False, dispatch_uid="shop.metrics.worker_ready")
    signals.worker_process_shutdown.connect(
        _worker_process_shutdown, weak=False, dispatch_uid="shop.metrics.worker_process_shutdown"
    )


def _worker_init(**_) -> None:
    from shop.kernel import metrics_files

    if multiprocess_dir():
        metrics_files.prepare(multiprocess_dir())


def _worker_process_shutdown(pid: int | None = None, **_) -> None:
    from shop.kernel import metrics_files

    metrics_files.mark_process_dead(pid or os.getpid())


def _worker_ready(**_) -> None:
    """``WORKER_METRICS_PORT``: serve this worker's processes' metrics (no scrape-time gauges)."""
    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    from prometheus_client import start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=settings.WORKER_METRICS_ADDRESS, registry=registry)
    logger.info("Worker metrics on http://%s:%s/metrics", settings.WORKER_METRICS_ADDRESS, port)


# --- the scrape ---------------------------------------------------------------------------------

_live_collectors: dict[str, object] = {}


def register_live_collector(name: str, collector) -> None:
    """Add a collector computed at scrape time (a context's ``apps.py`` calls this); idempotent by name."""
    _live_collectors[name] = collector


def live_collectors() -> list:
    return [LiveCollector(), *_live_collectors.values()]


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def scrape_registry() -> CollectorRegistry:
    """What ``/metrics`` serves: every process's samples summed, and the scrape-time gauges."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:  # no folder (prometheus-client imported before the settings named it): this process only
        from prometheus_client import REGISTRY

        registry.register(_ProcessOnly(REGISTRY))
    for collector in live_collectors():
        registry.register(collector)
    return registry


class _ProcessOnly:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def safely(source: str, families: Callable[[], Iterable[GaugeMetricFamily]]) -> list[GaugeMetricFamily]:
    """The families ``families()`` makes, or none when its source does not answer (logged)."""
    try:
        return list(families())
    except Exception:
        logger.warning("Metrics: %s did not answer at scrape time.", source, exc_info=True)
        return []


def gauges(spec: Mapping[str, tuple[str, list[str]]]) -> Callable[..., GaugeMetricFamily]:
    """
    ``gauge(name)``: an empty family of the gauge ``name`` of ``spec`` (name: help, label names);
    ``gauge(name, value)``: the gauge without labels with its one value.
    """

    def gauge(name: str, value: float | None = None) -> GaugeMetricFamily:
        help_text, labels = spec[name]
        if value is not None:
            return GaugeMetricFamily(name, help_text, value=value)
        return GaugeMetricFamily(name, help_text, labels=labels)

    return gauge


LIVE_GAUGES = {
    "shop_celery_queue_length": ("Messages waiting in the broker.", ["queue"]),
    "shop_outbox_lag_seconds": ("Age of the oldest unsent outbox row (0: none).", []),
    "shop_outbox_unsent": ("Outbox rows not yet handed to the broker.", []),
    "shop_queue_last_consumed_age_seconds": (
        "Seconds since a worker consumed the queue's heartbeat (+Inf: never).",
        ["queue"],
    ),
    "shop_beat_last_run_age_seconds": (
        "Seconds since beat sent the newest heartbeat a worker consumed (+Inf: none).",
        [],
    ),
}
_gauge = gauges(LIVE_GAUGES)


class LiveCollector:
    """The kernel's gauges computed at scrape time: a few indexed reads and one broker call per queue."""

    def describe(self):
        return [_gauge(name) for name in LIVE_GAUGES]

    def collect(self):
        yield from safely("the broker", self._queues)
        yield from safely("the outbox", self._outbox)
        yield from safely("the heartbeats", self._heartbeats)

    def _queues(self):
        family = _gauge("shop_celery_queue_length")
        for queue, length in queue_lengths().items():
            family.add_metric([queue], length)
        return [family]

    def _outbox(self):
        outbox = outbox_state()
        return [
            _gauge("shop_outbox_lag_seconds", outbox.lag_seconds),
            _gauge("shop_outbox_unsent", outbox.unsent),
        ]

    def _heartbeats(self):
        consumption = queue_consumption()
        consumed = _gauge("shop_queue_last_consumed_age_seconds")
        for queue, age in consumption.consumed_age_seconds.items():
            consumed.add_metric([queue], age)
        return [consumed, _gauge("shop_beat_last_run_age_seconds", consumption.beat_age_seconds)]


# --- live reads (the scrape's gauges, and the operations page: shop/operations.py) ---------------


@dataclass(frozen=True)
class OutboxState:
    """The outbox now: rows not yet handed to the broker, and the age of the oldest (0: none)."""

    unsent: int
    lag_seconds: float


@dataclass(frozen=True)
class QueueConsumption:
    """Per queue, seconds since a worker consumed its heartbeat (+Inf: never); since beat last sent one."""

    consumed_age_seconds: dict[str, float]
    beat_age_seconds: float


def queue_lengths() -> dict[str, int]:
    """
    Messages waiting in the broker, per queue of the shop (Redis lists or the file-system broker's
    folders): one broker call per queue.

    Raises:
        Exception: whatever the broker's client raises when it does not answer within a second.
    """
    from celery import current_app

    from shop.kernel.heartbeats import queue_names

    with current_app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
        channel = connection.default_channel
        return {queue: int(channel._size(queue)) for queue in queue_names()}


def outbox_state() -> OutboxState:
    """The unsent outbox rows and the age of the oldest (two indexed reads)."""
    from shop.kernel.models import OutboxMessage

    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    oldest = unsent.order_by("id").values_list("occurred_at", flat=True).first()
    lag = max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
    return OutboxState(unsent=unsent.count(), lag_seconds=lag)


def queue_consumption() -> QueueConsumption:
    """When each queue's heartbeat was last consumed, and beat's last heartbeat (one read)."""
    from shop.kernel.heartbeats import queue_names
    from shop.kernel.models import QueueHeartbeat

    now = timezone.now()
    beats = {beat.queue: beat for beat in QueueHeartbeat.objects.filter(queue__in=queue_names())}
    consumed = {
        queue: (now - beats[queue].consumed_at).total_seconds() if queue in beats else math.inf
        for queue in queue_names()
    }
    newest_sent = max((beat.sent_at for beat in beats.values()), default=None)
    beat_age = (now - newest_sent).total_seconds() if newest_sent else math.inf
    return QueueConsumption(consumed_age_seconds=consumed, beat_age_seconds=beat_age)


def funnel_totals() -> dict[tuple[str, str], float]:
    """
    ``shop_checkout_funnel_total`` summed over the processes that share the multiprocess folder,
    by (step, outcome): cumulative counts since the folder was last emptied (the start of the
    run, ``shop.kernel.metrics_files``), not per hour. Without a folder: this process's counts.
    """
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        families = registry.collect()
    else:
        families = FUNNEL.collect()
    totals: dict[tuple[str, str], float] = {}
    for family in families:
        if family.name != "shop_checkout_funnel":
            continue
        for sample in family.samples:
            if sample.name == "shop_checkout_funnel_total":
                key = (sample.labels["step"], sample.labels["outcome"])
                totals[key] = totals.get(key, 0.0) + sample.value
    return totals
