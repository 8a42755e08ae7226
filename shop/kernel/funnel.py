"""
The checkout funnel over the last hour, from its cumulative counters, without a Prometheus.

``shop_checkout_funnel_total`` counts since its metrics folder was last emptied (a start of the
server or of ``make run``). Prometheus turns that into hourly figures with ``increase(…[1h])``;
the operations page does the same from snapshots: beat asks a worker to store the counters every
``FUNNEL_SNAPSHOT_SECONDS`` (``take_snapshot``, a ``FunnelSnapshot`` row), and ``over_window``
adds up the increases from the snapshot an hour old through the newer ones to the counters now.
A counter that went down was reset (the folder was emptied) and counts from zero, as in
Prometheus. While the snapshots are younger than the window (a run younger than an hour), the
figures start from zero, the counters' start, and say so (``since`` None).

A snapshot names the folder it read (``source``: host and path). The page compares only
snapshots of the folder it reads itself: on one machine (``make run``, ``make stack``) every
process shares one; under docker-compose each container has its own, so the page finds none of
its folder and shows the counters since the start (Prometheus has the hourly figures there).
"""

import itertools
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from shop.kernel import metrics
from shop.kernel.models import FunnelSnapshot

WINDOW = timedelta(hours=1)

Totals = dict[tuple[str, str], float]


def source() -> str:
    """The metrics folder this process reads, as ``host:path`` (``host:-`` without a folder)."""
    return f"{socket.gethostname()}:{metrics.multiprocess_dir() or '-'}"


def _stored(totals: Totals) -> dict[str, float]:
    return {f"{step}|{outcome}": value for (step, outcome), value in totals.items()}


def _loaded(stored: dict[str, float]) -> Totals:
    return {tuple(key.split("|", 1)): value for key, value in stored.items()}


def take_snapshot(*, now: datetime | None = None) -> FunnelSnapshot:
    """Store the counters now; drop snapshots older than twice the window."""
    now = now or timezone.now()
    totals = _stored(metrics.funnel_totals())
    snapshot = FunnelSnapshot.objects.create(taken_at=now, source=source(), totals=totals)
    FunnelSnapshot.objects.filter(taken_at__lt=now - 2 * WINDOW).delete()
    return snapshot


@dataclass(frozen=True)
class FunnelWindow:
    """Counts by (step, outcome) from ``since`` to now; ``since`` None: since the counters' start."""

    totals: Totals
    since: datetime | None


def increase(points: list[Totals]) -> Totals:
    """What each counter gained along ``points`` (oldest first); a drop is a reset to zero."""
    gained: Totals = {}
    for before, after in itertools.pairwise(points):
        for key, value in after.items():
            previous = before.get(key, 0.0)
            gained[key] = gained.get(key, 0.0) + (value - previous if value >= previous else value)
    return gained


def over_window(*, window: timedelta = WINDOW, now: datetime | None = None) -> FunnelWindow:
    """
    The funnel's counts over the last ``window``: from the newest snapshot at least that old to
    the counters now. Without one (the run, or the snapshots of this folder, are younger than
    the window): from zero, that is since the counters started (``since`` None), a reset on
    the way counted as one.
    """
    now = now or timezone.now()
    current = metrics.funnel_totals()
    mine = FunnelSnapshot.objects.filter(source=source())
    start = mine.filter(taken_at__lte=now - window).order_by("-taken_at").first()
    later = mine.filter(taken_at__lte=now).order_by("taken_at")
    if start is not None:
        later = later.filter(taken_at__gt=start.taken_at)
    points = [
        _loaded(start.totals) if start else {},
        *(_loaded(snapshot.totals) for snapshot in later),
        current,
    ]
    return FunnelWindow(totals=increase(points), since=start.taken_at if start else None)
