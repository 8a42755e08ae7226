"""The shipped ERP simulator speaks the shop's hand-over protocol over real HTTP (no database involved)."""

import http.client
import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest


def _post(url: str, body: dict, key: str | None) -> tuple[int, dict]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    connection.request("POST", "/orders", body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    status, data = response.status, json.loads(response.read())
    connection.close()
    return status, data


def test_a_new_order_is_201_and_a_repeated_key_200_with_the_same_reference(erp_simulator):
    status, first = _post(erp_simulator.url, {"number": "SO-1"}, key="SO-1")
    assert status == 201
    assert first["erp_reference"]

    status, again = _post(erp_simulator.url, {"number": "SO-1"}, key="SO-1")
    assert status == 200
    assert again == first
    _post(erp_simulator.url, {"number": "SO-2"}, key="SO-2")

    orders = {order["order_number"]: order for order in erp_simulator.orders()}
    assert orders["SO-1"] == {
        "order_number": "SO-1",
        "erp_reference": first["erp_reference"],
        "deliveries": 2,
    }
    assert orders["SO-2"]["deliveries"] == 1
    assert orders["SO-2"]["erp_reference"] != first["erp_reference"]


def test_without_idempotency_key_is_400(erp_simulator):
    status, _ = _post(erp_simulator.url, {"number": "SO-1"}, key=None)
    assert status == 400
    assert erp_simulator.orders() == []


def test_control_fail_rate_answers_503_and_delete_forgets(erp_simulator):
    assert erp_simulator.control() == {"fail_rate": 0.0, "latency_ms": 0}
    assert erp_simulator.control(fail_rate=1.0) == {"fail_rate": 1.0, "latency_ms": 0}

    status, _ = _post(erp_simulator.url, {"number": "SO-1"}, key="SO-1")
    assert status == 503
    assert erp_simulator.orders() == []

    erp_simulator.control(fail_rate=0)
    assert _post(erp_simulator.url, {"number": "SO-1"}, key="SO-1")[0] == 201
    erp_simulator.forget()
    assert erp_simulator.orders() == []
    assert _post(erp_simulator.url, {"number": "SO-1"}, key="SO-1")[0] == 201


def test_control_rejects_bad_values(erp_simulator):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as error:
        erp_simulator.control(fail_rate=2)
    assert error.value.code == 400


def test_latency_is_added_to_each_post(erp_simulator):
    erp_simulator.control(latency_ms=300)
    started = time.monotonic()
    assert _post(erp_simulator.url, {"number": "SO-1"}, key="SO-1")[0] == 201
    print(f"POST /orders with latency_ms=300 took {time.monotonic() - started:.3f}s")
    assert erp_simulator.control()["latency_ms"] == 300


def test_it_runs_as_a_module(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "integrations.erp_simulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                assert _post(url, {"number": "SO-9"}, key="SO-9")[0] == 201
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
