"""A guest's order token never reaches a log line: gunicorn's access log, runserver's, Django's."""

import datetime
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.util import load_class

from shop.kernel.log_redaction import GunicornLogger, redact

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Order_Token"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /api/v1/orders/1/?token=s3cr3t HTTP/1.1", "GET /api/v1/orders/1/?token=[redacted] HTTP/1.1"),
        ("/o/?page=2&token=s3cr3t&x=1", "/o/?page=2&token=[redacted]&x=1"),
        ("token=s3cr3t", "token=[redacted]"),  # a bare query string
        ("/o/?ACCESS_TOKEN=s3cr3t", "/o/?ACCESS_TOKEN=[redacted]"),
        ("/o/?payment_token=tok_success&notoken=1", "/o/?payment_token=tok_success&notoken=1"),
    ],
)
def test_token_parameters_are_redacted_and_nothing_else(text, expected):
    assert redact(text) == expected


def test_gunicorn_conf_logs_through_the_redacting_logger():
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    assert issubclass(load_class(conf["logger_class"], section="gunicorn.loggers"), GunicornLogger)


def test_gunicorns_access_log_line_holds_no_order_token(tmp_path):
    log_file = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(log_file))
    cfg.set("access_log_format", '%(h)s "%(r)s" %(q)s "%(f)s" %({x-order-token}i)s %({raw_uri}e)s %(s)s')
    logger = GunicornLogger(cfg)
    uri = f"/api/v1/orders/2026-0001/?token={SECRET}"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "PATH_INFO": "/api/v1/orders/2026-0001/",
        "QUERY_STRING": f"token={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://mail.example.com/?u=https://shop.example.com{uri}",
    }
    request = SimpleNamespace(headers=[("X-ORDER-TOKEN", SECRET)])
    response = SimpleNamespace(status="200 OK", sent=42, headers=[])

    logger.access(response, request, environ, datetime.timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()

    line = log_file.read_text()
    assert "203.0.113.7" in line and "/api/v1/orders/2026-0001/" in line and " 200" in line
    assert SECRET not in line
    assert "token=[redacted]" in line


@pytest.mark.parametrize(
    ("logger_name", "message", "args"),
    [
        # What runserver logs for each request (django.core.servers.basehttp), and Django's 4xx log.
        ("django.server", '"%s" %s %s', (f"GET /api/v1/orders/2026-0001/?token={SECRET} HTTP/1.1", 404, 120)),
        ("django.request", "Not Found: %s", (f"/api/v1/orders/2026-0001/?token={SECRET}",)),
        ("shop.anything", "A link: %s", (f"https://shop.example.com/api/v1/orders/1/?token={SECRET}",)),
    ],
)
def test_djangos_log_records_hold_no_order_token(logger_name, message, args):
    """The settings' LOGGING as configured: the record the handlers get is redacted."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    logger = logging.getLogger(logger_name)
    target = logger if logger_name != "shop.anything" else logging.getLogger()
    handler = Keep()
    if target is logging.getLogger():  # the root's own console handler carries the filter
        console = next(h for h in target.handlers if h.filters)
        handler.filters = list(console.filters)
    target.addHandler(handler)
    try:
        logger.warning(message, *args)
    finally:
        target.removeHandler(handler)

    assert len(records) == 1
    assert SECRET not in records[0]
    assert "token=[redacted]" in records[0]
