"""
Faults injected during a load test, through the ERP simulator's ``PUT /control``
(integrations/README.md): ``erp_down`` takes the ERP down for part of the run and brings it back.

    outage = erp_down("http://127.0.0.1:8099", after_seconds=60, for_seconds=120)
    ...                        # the load runs
    outage.stop()              # at the end of the run: the ERP is up again whatever happened
    outage.down_at, outage.up_at   # when it went down and came back (UTC), for the report

A simulator that does not answer is logged and retried, never raised: the load test goes on, and
``down_at``/``up_at`` stay ``None`` for a change that never took (``errors`` says why).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from datetime import UTC, datetime

logger = logging.getLogger(__name__)


class ErpOutage(threading.Thread):
    """
    The background thread of ``erp_down``: waits ``after_seconds``, sets ``fail_rate`` 1, waits
    ``for_seconds``, sets it 0. ``stop()`` ends a wait early (the ERP comes back at once if it was
    taken down). ``down_at``/``up_at``: when the simulator accepted each change.
    """

    def __init__(
        self,
        erp_url: str,
        *,
        after_seconds: float,
        for_seconds: float,
        attempts: int = 5,
        retry_seconds: float = 1.0,
        timeout: float = 5.0,
    ):
        super().__init__(name="erp-down", daemon=True)
        self.erp_url = erp_url.rstrip("/")
        self.after_seconds = after_seconds
        self.for_seconds = for_seconds
        self.attempts = attempts
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self.down_at: datetime | None = None
        self.up_at: datetime | None = None
        self.errors: list[str] = []
        self._stopped = threading.Event()

    def run(self) -> None:
        if self._stopped.wait(self.after_seconds):
            return  # stopped before the outage began: the ERP was never touched
        self.down_at = self._set_fail_rate(1.0)
        if self.down_at is None:
            return
        self._stopped.wait(self.for_seconds)
        # Bringing the ERP back is retried even after stop(): left down, no order would drain.
        self.up_at = self._set_fail_rate(0.0, even_when_stopped=True)

    def stop(self, timeout: float | None = 30.0) -> None:
        """End the outage now (or cancel it before it begins) and wait for the thread."""
        self._stopped.set()
        if self.is_alive():
            self.join(timeout)

    def _set_fail_rate(self, fail_rate: float, *, even_when_stopped: bool = False) -> datetime | None:
        body = json.dumps({"fail_rate": fail_rate}).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(  # noqa: S310 - the operator's ERP_URL
                self.erp_url + "/control",
                data=body,
                method="PUT",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    answered = json.loads(response.read())
                if answered.get("fail_rate") != fail_rate:
                    raise ValueError(f"the simulator answered {answered}")
                at = datetime.now(UTC)
                logger.info("ERP simulator %s: fail_rate %s at %s", self.erp_url, fail_rate, at.isoformat())
                return at
            except (OSError, ValueError) as exc:
                error = f"PUT {self.erp_url}/control fail_rate={fail_rate}, attempt {attempt}: {exc}"
                self.errors.append(error)
                logger.warning("%s", error)
            if attempt < self.attempts:
                waited = threading.Event() if even_when_stopped else self._stopped
                if waited.wait(self.retry_seconds):
                    return None
        return None


def erp_down(erp_url: str, *, after_seconds: float, for_seconds: float, **options) -> ErpOutage:
    """
    Start, in a background thread, an ERP outage of ``for_seconds`` beginning ``after_seconds``
    from now: the simulator's ``fail_rate`` 1 (every ``POST /orders`` a 503), then 0 again. The
    returned thread (started) has ``down_at`` and ``up_at``; ``options`` go to ``ErpOutage``
    (``attempts``, ``retry_seconds``, ``timeout``).
    """
    outage = ErpOutage(erp_url, after_seconds=after_seconds, for_seconds=for_seconds, **options)
    outage.start()
    return outage
