"""The load test's ERP outage (``loadtest.faults.erp_down``) on the real ERP simulator over HTTP."""

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

from loadtest.faults import erp_down


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_erp_goes_down_after_the_delay_and_comes_back_after_the_outage(erp_simulator):
    erp_simulator.control(latency_ms=5)
    started = datetime.now(UTC)
    outage = erp_down(erp_simulator.url, after_seconds=0.3, for_seconds=0.5)
    assert erp_simulator.control()["fail_rate"] == 0.0
    outage.join(10)

    assert not outage.is_alive()
    assert outage.down_at - started >= timedelta(seconds=0.3)
    assert outage.up_at - outage.down_at >= timedelta(seconds=0.5)
    assert outage.errors == []
    assert erp_simulator.control() == {"fail_rate": 0.0, "latency_ms": 5}  # latency left as it was


def test_while_down_every_order_is_refused_and_stop_brings_it_back_at_once(erp_simulator):
    outage = erp_down(erp_simulator.url, after_seconds=0, for_seconds=600)
    _wait_for(lambda: outage.down_at is not None)
    assert erp_simulator.control()["fail_rate"] == 1.0
    assert outage.up_at is None

    outage.stop()
    assert not outage.is_alive()
    assert outage.up_at is not None and outage.up_at >= outage.down_at
    assert erp_simulator.control()["fail_rate"] == 0.0


def test_stopped_before_it_begins_the_erp_is_never_touched(erp_simulator):
    outage = erp_down(erp_simulator.url, after_seconds=600, for_seconds=1)
    outage.stop()
    assert not outage.is_alive()
    assert (outage.down_at, outage.up_at) == (None, None)
    assert erp_simulator.control()["fail_rate"] == 0.0


def test_a_simulator_that_does_not_answer_is_logged_and_retried_never_raised(caplog):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with caplog.at_level(logging.WARNING, logger="loadtest.faults"):
        outage = erp_down(url, after_seconds=0, for_seconds=0, attempts=3, retry_seconds=0.01, timeout=1)
        outage.join(10)

    assert not outage.is_alive()
    assert (outage.down_at, outage.up_at) == (None, None)
    assert len(outage.errors) == 3
    assert all(error.startswith(f"PUT {url}/control fail_rate=1.0, attempt ") for error in outage.errors)
    assert [record.getMessage() for record in caplog.records] == outage.errors


def test_bringing_the_erp_back_is_retried_until_it_answers(erp_simulator):
    """An ERP left down would keep every order from draining: coming back is retried, even after stop()."""
    from integrations import erp_simulator as simulator

    outage = erp_down(erp_simulator.url, after_seconds=0, for_seconds=600, attempts=200, retry_seconds=0.02)
    _wait_for(lambda: outage.down_at is not None)
    port = erp_simulator.server.server_address[1]
    erp_simulator.server.shutdown()
    erp_simulator.server.server_close()
    outage._stopped.set()  # as stop() does, without waiting
    _wait_for(lambda: len(outage.errors) >= 2)
    assert outage.up_at is None
    back = simulator.start_in_thread(port=port)
    try:
        outage.join(10)
        assert not outage.is_alive()
        assert outage.up_at is not None
        assert all(
            error.startswith(f"PUT {erp_simulator.url}/control fail_rate=0.0") for error in outage.errors
        )
    finally:
        back.shutdown()
        back.server_close()
