"""
End to end, as production runs: gunicorn with gunicorn.conf.py (preloaded, forked workers), a
prefork Celery worker, PostgreSQL, Redis and the ERP simulator; JSON logs, and traces printed by
the console exporter (``OTEL_TRACES_EXPORTER=console``).

A guest buys through HTTP with an ``X-Request-ID``; the completion's log records (gunicorn's and
Django's), the tasks it causes through the outbox (the ERP hand-over: record, deliver, the ERP's
HTTP call) and their log records carry that request id, the order number and one trace id; the
spans of the web process and of the worker are of that trace. A guest's reads of the order with
``?token=`` leave the token in no line of either process.
"""

import http.client
import json
from importlib import import_module
from urllib.parse import urlencode

import pytest
from django.apps import apps

from integrations import erp_simulator
from integrations.models import ErpHandover
from tests.celery_worker import json_records, wait_for
from tests.checkout.support import checkout_of, complete, stocked_skus
from tests.shop.test_graceful_restart import Gunicorn

REQUEST_ID = "e2e-purchase-7f3a"
_shipping_data = import_module("checkout.migrations.0002_shipping_methods")


class Response:
    def __init__(self, status: int, body: bytes, headers: dict[str, str]):
        self.status_code, self.content, self.headers = status, body, headers

    def json(self):
        return json.loads(self.content)

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]


class HttpClient:
    """The calls of ``tests.checkout.support`` over HTTP to a server, each with an ``X-Request-ID``."""

    def __init__(self, port: int):
        self.port = port
        self.request_id = "e2e-setup"

    def request(self, method: str, path: str, data=None, **meta: str) -> Response:
        headers = {"X-Request-ID": self.request_id, "Accept": "application/json"}
        headers |= {key.removeprefix("HTTP_").replace("_", "-"): value for key, value in meta.items()}
        body = None
        if data is not None:
            body, headers["Content-Type"] = json.dumps(data), "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return Response(answer.status, answer.read(), {k.lower(): v for k, v in answer.getheaders()})
        finally:
            connection.close()

    def post(self, path, data, format="json", **meta):
        return self.request("POST", path, data, **meta)

    def patch(self, path, data, format="json", **meta):
        return self.request("PATCH", path, data, **meta)

    def get(self, path, params=None, **meta):
        return self.request("GET", f"{path}?{urlencode(params)}" if params else path, **meta)


def spans(text: str) -> list[dict]:
    return [record for record in json_records(text) if "context" in record and "kind" in record]


def logs(text: str) -> list[dict]:
    return [record for record in json_records(text) if "level" in record and "logger" in record]


@pytest.fixture
def erp():
    server = erp_simulator.start_in_thread()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(240)
def test_a_purchase_and_the_tasks_it_causes_share_request_id_order_number_and_trace(
    celery_worker, erp, tmp_path
):
    env = {"LOG_FORMAT": "json", "OTEL_TRACES_EXPORTER": "console", "ERP_URL": erp.url}
    worker = celery_worker(queues=["default", "erp"], env=env, pool="prefork", concurrency=1)
    web = Gunicorn(tmp_path, **env, GUNICORN_CMD_ARGS="--access-logfile -").start()
    try:
        client = HttpClient(web.port)
        _shipping_data.create(apps, None)  # the data migration's, which a transactional test's flush removes
        (sku,) = stocked_skus(3)
        response = client.post("/api/v1/carts/", {})
        cart = response.json()["token"]
        assert client.post(f"/api/v1/carts/{cart}/lines/", {"sku": sku, "quantity": 1}).status_code == 201
        checkout = checkout_of(client, cart)
        client.request_id = REQUEST_ID
        completed = complete(client, checkout["id"])
        assert completed.status_code == 201, completed.content
        assert completed["X-Request-ID"] == REQUEST_ID
        number, token = completed.json()["number"], completed.json()["access_token"]

        def delivered() -> bool:
            return ErpHandover.objects.filter(order_number=number, status="delivered").exists()

        assert wait_for(delivered, seconds=60), worker.log()
        client.request_id = "e2e-guest-read"
        assert client.get(f"/api/v1/orders/{number}/", {"token": token}).status_code == 200
        assert (
            client.get(f"/api/v1/orders/{number}/", {"token": token}, HTTP_X_ORDER_TOKEN="x").status_code
            == 404
        )
        assert wait_for(lambda: "e2e-guest-read" in web.log() and '" 404 ' in web.log(), seconds=30)
    finally:
        web.stop()

    web_log, worker_log = web.log(), worker.log()
    # The web process: Django's record of the order and gunicorn's access line of the completion.
    [placed] = [record for record in logs(web_log) if record["message"].startswith(f"Order {number} placed")]
    assert (placed["request_id"], placed["order_number"]) == (REQUEST_ID, number)
    trace_id = placed["trace_id"]
    assert len(trace_id) == 32 and int(trace_id, 16)
    [access] = [
        record
        for record in logs(web_log)
        if record["logger"] == "gunicorn.access" and "/complete/" in record["message"]
    ]
    assert access["request_id"] == REQUEST_ID
    # The worker: the hand-over's task, sent through the outbox by the relay; it records the
    # hand-over and makes the first attempt itself once the record commits.
    [handed_over] = [
        record for record in logs(worker_log) if record["message"].startswith(f"Hand-over of {number}")
    ]
    assert handed_over["message"].startswith(f"Hand-over of {number} delivered")
    assert (handed_over["request_id"], handed_over["order_number"], handed_over["trace_id"]) == (
        REQUEST_ID,
        number,
        trace_id,
    )
    succeeded = {
        record["data"]["name"]: record
        for record in logs(worker_log)
        if record["logger"] == "celery.app.trace" and "succeeded" in record["message"]
    }
    assert succeeded["integrations.erp_record_handover"]["request_id"] == REQUEST_ID, worker_log
    assert succeeded["integrations.erp_record_handover"]["trace_id"] == trace_id

    # The spans: the request, its SQL, the tasks and the ERP call, one trace across both processes.
    web_spans = [span for span in spans(web_log) if span["context"]["trace_id"] == f"0x{trace_id}"]
    worker_spans = [span for span in spans(worker_log) if span["context"]["trace_id"] == f"0x{trace_id}"]
    assert any(span["kind"] == "SpanKind.SERVER" and "complete" in span["name"] for span in web_spans)
    assert any(span["attributes"].get("db.system") == "postgresql" for span in web_spans)
    worker_names = {span["name"] for span in worker_spans}
    # The hand-over's message is sent by the relay, in the worker, in the trace of the request
    # that placed the order (its outbox row keeps it), whichever request's commit asked for that
    # relay (one relay serves the commits of its delay).
    assert any(
        span["kind"] == "SpanKind.PRODUCER" and span["name"] == "apply_async/integrations.erp_record_handover"
        for span in worker_spans
    ), sorted(worker_names)
    assert "run/integrations.erp_record_handover" in worker_names
    [erp_call] = [span for span in worker_spans if span["name"] == "ERP POST /orders"]
    assert erp_call["kind"] == "SpanKind.CLIENT"
    assert erp_call["attributes"]["http.response.status_code"] == 201
    assert {span["resource"]["attributes"]["service.name"] for span in web_spans + worker_spans} == {
        "shop-web",
        "shop-worker",
    }

    # No line of either process holds the guest's token: not the access log's query string, not
    # the request span's URL.
    assert "?token=[redacted]" in web_log
    read_spans = [
        span
        for span in spans(web_log)
        if span["attributes"].get("http.route") == "api/v1/orders/<str:number>/"
    ]
    assert read_spans and all("token=[redacted]" in json.dumps(span["attributes"]) for span in read_spans)
    assert token not in web_log and token not in worker_log
