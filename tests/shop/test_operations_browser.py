"""
The operations page in a real browser: Playwright drives the distribution's Chromium
(``/usr/bin/chromium``, Debian's ``chromium``, which ``make test`` installs when it is missing;
``SHOP_TEST_CHROMIUM`` names another) against pytest-django's live server. After a purchase and a
hand-over to the real ERP simulator (``python -m integrations.erp_simulator`` in a process of its
own, on a free port or ``SHOP_TEST_ERP_PORT``), staff sign in through the admin's login form, follow
the admin index's link, read live figures (orders, hand-overs by status, outbox lag), and take the
ERP down with the page's form: the simulator itself then reports the new fail rate.

Django refuses database calls from a thread where an event loop runs, and Playwright's sync API
runs one in the test's thread: the test prepares the data before the browser starts and reads the
database only after it stops (the live server answers from a thread of its own).
"""

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect, sync_playwright

from integrations.services import erp as erp_services
from integrations.tasks.erp import erp_deliver_handover
from tests.integrations.erp_support import create_shipping_methods, place_orders

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SHOP_TEST_CHROMIUM", "/usr/bin/chromium")
EMAIL, PASSWORD = "ops@example.com", "a-long-staff-passphrase"


def simulator_control(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/control", timeout=5) as response:  # noqa: S310 - the local simulator
        return json.loads(response.read())


@pytest.fixture
def erp_url(settings):
    """The ERP simulator as ``make run`` starts it, in a process of its own; ``ERP_URL`` points at it."""
    port = os.environ.get("SHOP_TEST_ERP_PORT", "0")
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "integrations.erp_simulator", "--port", port],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = process.stdout.readline()  # "ERP simulator on http://127.0.0.1:PORT (...)"
        match = re.search(r"on (http://\S+)", banner)
        assert match, f"the simulator did not start: {banner!r}"
        settings.ERP_URL = match.group(1)
        yield settings.ERP_URL
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_staff_read_live_figures_and_take_the_erp_down(live_server, erp_url):
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    get_user_model().objects.create_user("ops", EMAIL, PASSWORD, is_staff=True)
    create_shipping_methods()
    delivered, waiting = place_orders(2)  # commits: the funnel counts, the outbox has their events
    for number in (delivered, waiting):
        erp_services.handover_create(order_number=number, payload={"number": number})
    assert erp_deliver_handover(delivered) == "delivered"  # over HTTP to the simulator's process

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/admin/")
            page.fill("#id_username", EMAIL)  # staff sign in with their e-mail address
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.click("#operations-link a")
            page.wait_for_url(f"{live_server.url}/admin/operations/")

            def figure(name: str):
                return page.locator(f'[data-figure="{name}"]')

            expect(figure("orders-placed")).to_have_text("2")
            expect(figure("checkouts-completed")).to_have_text("2")
            expect(figure("handovers-delivered")).to_have_text("1")
            expect(figure("handovers-pending")).to_have_text("1")
            expect(figure("oldest-pending")).to_contain_text(waiting)
            expect(figure("outbox-lag")).to_have_text(re.compile(r"^\d+ s$|^\d+ min \d+ s$"))
            expect(figure("outbox-unsent")).to_have_text(re.compile(r"^\d+$"))
            expect(figure("breaker-state")).to_have_text("closed")
            expect(figure("funnel-order_placed-ok")).not_to_have_text("0")
            expect(figure("erp-fail-rate")).to_have_text("0.0")

            page.fill("#id_fail_rate", "1")
            page.fill("#id_latency_ms", "250")
            page.click("#erp-control input[type=submit]")

            expect(page.locator(".messagelist .success")).to_have_text(
                "ERP simulator set: fail rate 1, latency 250 ms."
            )
            expect(figure("erp-fail-rate")).to_have_text("1.0")
            expect(figure("erp-latency")).to_have_text("250 ms")
        finally:
            browser.close()

    assert simulator_control(erp_url) == {"fail_rate": 1.0, "latency_ms": 250}
