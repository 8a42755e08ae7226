"""
The operations page for staff (``/admin/operations/``, linked from the admin's index): the
questions of a campaign answered from the live system, without Prometheus, on the embedded
defaults too; and the ERP simulator's controls, so that a workshop can take the ERP down and
watch checkout stay fast. README, "The operations page", says what each figure is.

It is the project's page, so it reads each context through its ``api`` only, and the kernel's
live reads (``shop.kernel.metrics``) that ``/metrics`` serves as gauges. Every source is read on
its own and fails open: one that does not answer (the broker, the cache, the simulator) shows
why in its place, and the page still renders. Nothing here runs on a customer's request.
"""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from checkout import api as checkout_api
from integrations import api as integrations_api
from shop.kernel import funnel as kernel_funnel
from shop.kernel import metrics as kernel_metrics

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)

# The funnel's steps in the order a purchase takes them (their FunnelSteps: cart/, checkout/ and
# inventory/ metrics.py); a step the counter has that is not listed is shown after them.
FUNNEL_STEPS = (
    "cart_created",
    "line_added",
    "checkout_started",
    "address_set",
    "shipping_set",
    "payment",
    "order_placed",
    "reservation",
)


@dataclass(frozen=True)
class Reading:
    """A source's answer, or why it gave none (``error``)."""

    value: Any = None
    error: str = ""


def read(source: str, function: Callable[[], Any]) -> Reading:
    """``function()``, or the reason it failed (logged): one source down leaves the page up."""
    try:
        return Reading(value=function())
    except Exception as exc:
        logger.warning("Operations page: %s did not answer.", source, exc_info=True)
        return Reading(error=f"{source} did not answer: {type(exc).__name__}: {exc}"[:300])


@dataclass(frozen=True)
class FunnelRow:
    step: str
    ok: int
    aborted: int
    reasons: str


def funnel_rows(totals: dict[tuple[str, str], float]) -> list[FunnelRow]:
    """One row per step: successes, aborts and the aborts' outcomes (``reason count``, largest first)."""
    steps = list(FUNNEL_STEPS) + sorted({step for step, _ in totals} - set(FUNNEL_STEPS))
    rows = []
    for step in steps:
        outcomes = {outcome: int(value) for (name, outcome), value in totals.items() if name == step}
        aborts = {outcome: count for outcome, count in outcomes.items() if outcome != "ok" and count}
        reasons = ", ".join(
            f"{outcome} {count}" for outcome, count in sorted(aborts.items(), key=lambda i: -i[1])
        )
        rows.append(
            FunnelRow(step=step, ok=outcomes.get("ok", 0), aborted=sum(aborts.values()), reasons=reasons)
        )
    return rows


def ago(value: float | None) -> str:
    """``seconds(value)`` followed by ``ago``, or ``never``."""
    text = seconds(value)
    return text if text in ("never", "-") else f"{text} ago"


def seconds(value: float | None) -> str:
    """A duration for people: ``42 s``, ``3 min 5 s``, ``2 h 10 min``; ``never`` for +Inf."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "never"
    value = int(value)
    if value < 60:
        return f"{value} s"
    if value < 3600:
        return f"{value // 60} min {value % 60} s"
    return f"{value // 3600} h {value % 3600 // 60} min"


class ErpControlForm(forms.Form):
    fail_rate = forms.FloatField(
        min_value=0,
        max_value=1,
        help_text="Share of hand-overs the simulator answers 503: 0 healthy, 1 down.",
    )
    latency_ms = forms.IntegerField(
        min_value=0,
        max_value=600_000,
        label="Latency (ms)",
        help_text="Added to each hand-over; more than ERP_READ_TIMEOUT_SECONDS makes it a timeout.",
    )


def _figures() -> dict[str, Any]:
    now = timezone.now()
    activity = read("the orders", lambda: checkout_api.activity_since(since=now - WINDOW))
    funnel = read("the metrics folder", lambda: kernel_funnel.over_window(window=WINDOW, now=now))
    outbox = read("the outbox", kernel_metrics.outbox_state)
    queues = read("the broker", kernel_metrics.queue_lengths)
    consumption = read("the heartbeats", kernel_metrics.queue_consumption)
    queue_rows = []
    names = sorted(
        set(queues.value or {}) | set(consumption.value.consumed_age_seconds if consumption.value else {})
    )
    for name in names:
        queue_rows.append(
            {
                "name": name,
                "length": (queues.value or {}).get(name, "-"),
                "consumed": ago(consumption.value.consumed_age_seconds.get(name))
                if consumption.value
                else "-",
            }
        )
    handovers = read("the hand-overs", integrations_api.handover_overview)
    oldest = handovers.value.oldest_pending if handovers.value else None
    return {
        "now": now,
        "window_minutes": int(WINDOW.total_seconds() // 60),
        "activity": activity,
        "funnel": funnel,
        "funnel_rows": funnel_rows(funnel.value.totals) if funnel.value is not None else [],
        "multiprocess": bool(kernel_metrics.multiprocess_dir()),
        "outbox": outbox,
        "outbox_lag": seconds(outbox.value.lag_seconds) if outbox.value else "-",
        "queues": queues,
        "consumption": consumption,
        "queue_rows": queue_rows,
        "beat_age": ago(consumption.value.beat_age_seconds) if consumption.value else "-",
        "handovers": handovers,
        "oldest_pending": oldest,
        "oldest_pending_age": seconds((now - oldest.created_at).total_seconds()) if oldest else "",
        "jobs": read("the jobs", lambda: integrations_api.recent_job_runs(limit=10)),
        "breaker": read("the circuit breaker's cache", integrations_api.breaker_state),
        "erp_url": integrations_api.erp_url(),
    }


def _set_erp_control(request: HttpRequest, form: ErpControlForm) -> bool:
    try:
        control = integrations_api.set_erp_control(
            fail_rate=form.cleaned_data["fail_rate"], latency_ms=form.cleaned_data["latency_ms"]
        )
    except integrations_api.ErpUnavailable as exc:
        messages.error(
            request, f"The ERP simulator at {integrations_api.erp_url()} is not reachable ({exc})."
        )
        return False
    except (integrations_api.ErpRejected, ValueError) as exc:
        messages.error(request, f"The ERP at {integrations_api.erp_url()} refused the change ({exc}).")
        return False
    messages.success(
        request, f"ERP simulator set: fail rate {control.fail_rate:g}, latency {control.latency_ms} ms."
    )
    return True


@never_cache
@require_http_methods(["GET", "POST"])
def operations(request: HttpRequest) -> HttpResponse:
    """
    The page (GET), or a change of the ERP simulator's controls (POST, staff and CSRF through the
    admin's ``admin_view``), answered by a redirect to the page with a message.
    """
    if request.method == "POST":
        form = ErpControlForm(request.POST)
        if form.is_valid() and _set_erp_control(request, form):
            return HttpResponseRedirect(reverse("admin-operations"))
        if not form.is_valid():
            messages.error(request, "The ERP simulator was not changed: see the form.")
    else:
        form = None
    control = read("the ERP simulator", integrations_api.erp_control)
    if form is None:
        initial = {"fail_rate": 0.0, "latency_ms": 0}
        if control.value is not None:
            initial = {"fail_rate": control.value.fail_rate, "latency_ms": control.value.latency_ms}
        form = ErpControlForm(initial=initial)
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "control": control,
        "control_form": form,
        **_figures(),
    }
    return TemplateResponse(request, "admin/operations.html", context)


# Included by shop.urls at admin/operations/; admin_view: staff only (else the admin's login), CSRF.
urlpatterns = [path("", admin.site.admin_view(operations), name="admin-operations")]
