"""
What the integrations tests share: a client of the ERP simulator's test-facing endpoints (the
``erp_simulator`` fixture, a simulator over real HTTP on a free port, is project-wide:
tests/conftest.py). Real Celery workers come from the project-wide ``celery_worker`` fixture.
"""

import json
import urllib.request

from integrations import erp_simulator as simulator
from tests.celery_worker import wait_for  # noqa: F401 - used by the tests of this folder


class SimulatorClient:
    """The ERP simulator of a test, and a small HTTP client of its test-facing endpoints."""

    def __init__(self, server: simulator.ErpSimulator):
        self.server = server
        self.url = server.url

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local simulator
            raw = response.read()
        return json.loads(raw) if raw else None

    def orders(self) -> list[dict]:
        return self._call("GET", "/orders")

    def control(self, **values) -> dict:
        return self._call("PUT", "/control", values) if values else self._call("GET", "/control")

    def forget(self) -> None:
        self._call("DELETE", "/orders")
