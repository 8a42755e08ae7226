"""
The shop's logging: one configuration for the web server, the workers and beat (README, "Logs and
traces").

``LOG_FORMAT=json`` (the default with ``DEBUG`` off) writes one JSON object a line, for a log
collector: ``timestamp``, ``level``, ``logger``, ``message`` and, where there is one, ``request_id``,
``order_number``, ``trace_id``, ``span_id``, ``exc_info``, and what a record carries besides
(``status_code``, Celery's task ``data``). ``LOG_FORMAT=console`` (the default with ``DEBUG`` on,
so under ``make run``) writes a readable line with the same context at its end.

Every record goes through the root logger's one handler, once: Django's own ``django`` logger
handler (console, with ``DEBUG`` on) is taken away, as it printed each of Django's warnings a
second time beside the root's. Token redaction (``shop.kernel.log_redaction``) and the log
context (``shop.kernel.logcontext``) are filters of that handler.

Idle housekeeping is at DEBUG: beat's "Sending due task" lines, and Celery's "received" and
"succeeded" lines of the tasks that beat runs (the sweeps, purges and heartbeats); their
failures and retries keep their level. A request's id reaches the tasks it causes through a
message header (``connect_celery``).
"""

import logging
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from shop.kernel import log_redaction
from shop.kernel.log_redaction import redact
from shop.kernel.logcontext import ORDER_NUMBER, REQUEST_ID, ContextFilter

FORMATS = ("json", "console")
#: The task message header that carries the request id into the worker.
REQUEST_ID_HEADER = "shop_request_id"
CONTEXT_FIELDS = ("request_id", "order_number", "trace_id", "span_id")
# Attributes of a record that are logging's own (or Django's ``request``, whose repr holds the
# query string): never copied into a JSON line as they are.
_NOT_COPIED = frozenset(
    {
        "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname",
        "levelno", "lineno", "module", "msecs", "message", "msg", "name", "pathname", "process",
        "processName", "relativeCreated", "stack_info", "thread", "threadName", "taskName",
        "request", "server_time",
    }
)  # fmt: skip


def log_format(value: str | None, *, debug: bool) -> str:
    """The format of ``LOG_FORMAT`` (``json`` or ``console``); unset: console with DEBUG, else json."""
    from shop.settings import SettingsError

    chosen = (value or ("console" if debug else "json")).strip().lower()
    if chosen not in FORMATS:
        raise SettingsError(f"LOG_FORMAT is {value!r}; the shop writes logs as json or console.")
    return chosen


def config(*, fmt: str, level: str) -> dict[str, Any]:
    """The settings' ``LOGGING``: ``fmt`` is ``json`` or ``console``, ``level`` the root's."""
    formatter = "json" if fmt == "json" else "console"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact_tokens": {"()": "shop.kernel.log_redaction.RedactTokens"},
            "context": {"()": "shop.kernel.logcontext.ContextFilter"},
            "quiet_housekeeping": {"()": "shop.logs.QuietHousekeeping"},
        },
        "formatters": {
            "json": {"()": "shop.logs.JsonFormatter"},
            "console": {"()": "shop.logs.ConsoleFormatter"},
            "django.server": {
                "()": "django.utils.log.ServerFormatter",
                "format": "[{server_time}] {message}",
                "style": "{",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["redact_tokens", "context"],
            },
            # runserver's access log: its own colours in the console format.
            "django.server": {
                "class": "logging.StreamHandler",
                "formatter": "django.server" if fmt == "console" else "json",
                "filters": ["redact_tokens", "context"],
            },
        },
        "loggers": {
            # Django's default configuration gives `django` a console handler of its own (with
            # DEBUG on) that printed each record a second time beside the root's: none here.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {
                "handlers": ["django.server"],
                "level": "INFO",
                "propagate": False,
                "filters": ["redact_tokens"],
            },
            "django.request": {"filters": ["redact_tokens"]},
            "celery.beat": {"filters": ["quiet_housekeeping"]},
            "celery.worker.strategy": {"filters": ["quiet_housekeeping"]},
            "celery.app.trace": {"filters": ["quiet_housekeeping"]},
        },
        "root": {"handlers": ["console"], "level": level},
    }


class JsonFormatter(_JsonFormatter):
    """One JSON object a line; context fields only when set; every string value redacted."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", ())
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict) -> None:
        log_data["timestamp"] = self._timestamp(record)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _NOT_COPIED and value is not None and key not in log_data:
                log_data[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            log_data["exc_info"] = record.exc_text
        if record.stack_info:
            log_data["stack_info"] = self.formatStack(record.stack_info)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key, value in log_data.items():
            if isinstance(value, str) and "token" in value.lower():
                log_data[key] = redact(value)
        return log_data

    @staticmethod
    def _timestamp(record: logging.LogRecord) -> str:
        seconds = int(record.created)
        return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        # message_dict is only for records whose msg is a dict (python-json-logger's feature); the
        # shop's records are text, so the parent's format is bypassed for add_fields' own order.
        log_data: dict[str, Any] = {}
        self.add_fields(log_data, record, {})
        return self.serialize_log_record(self.process_log_record(log_data))


class ConsoleFormatter(logging.Formatter):
    """``time level logger message [request_id=… order_number=…]``: a line to read in a terminal."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) is not None and name != "span_id"
        )
        if not context:
            return line
        head, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{head} [{context}]{newline}{rest}"


class QuietHousekeeping(logging.Filter):
    """
    Moves the routine lines of housekeeping to DEBUG: beat's "Sending due task" lines, and
    Celery's "received" and "succeeded" lines of the tasks beat sends (``CELERY_BEAT_SCHEDULE``).
    Above DEBUG the record is dropped; at DEBUG it is printed as a DEBUG line.
    """

    def __init__(self):
        super().__init__()
        self._tasks: frozenset[str] | None = None

    def housekeeping_tasks(self) -> frozenset[str]:
        if self._tasks is None:
            from django.conf import settings

            schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", {})
            self._tasks = frozenset(entry["task"] for entry in schedule.values())
        return self._tasks

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._is_routine(record):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True

    def _is_routine(self, record: logging.LogRecord) -> bool:
        if record.name == "celery.beat":
            return str(record.msg).startswith("Scheduler: Sending due task")
        data = record.args if isinstance(record.args, dict) else getattr(record, "data", None)
        return isinstance(data, dict) and data.get("name") in self.housekeeping_tasks()


class GunicornLogger(log_redaction.GunicornLogger):
    """
    gunicorn's logger (``gunicorn.conf.py``'s ``logger_class``), its access log redacted
    (``shop.kernel.log_redaction``); with ``LOG_FORMAT=json`` its error and access logs are JSON
    lines as well, an access line with the request id of its request.
    """

    def setup(self, cfg):
        super().setup(cfg)
        import environ

        from shop.settings import read_env_file

        read_env_file()  # the master sets its logger up before it loads the settings
        env = environ.Env()
        if log_format(env.str("LOG_FORMAT", default=""), debug=env.bool("DEBUG", default=False)) != "json":
            return
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(JsonFormatter())
            handler.addFilter(ContextFilter())


def connect_celery() -> None:
    """
    Carry the request id into the tasks a request sends, and bind it (and clear the order
    number) in the worker before each task runs: connected once by ``shop.celery``.
    """
    from celery import signals

    signals.before_task_publish.connect(_add_request_id, weak=False, dispatch_uid="shop.logs.publish")
    signals.task_prerun.connect(_bind_task_context, weak=False, dispatch_uid="shop.logs.prerun")
    signals.task_postrun.connect(_clear_task_context, weak=False, dispatch_uid="shop.logs.postrun")


def _add_request_id(headers: dict | None = None, **_: Any) -> None:
    request_id = REQUEST_ID.get()
    if request_id is not None and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _bind_task_context(task=None, **_: Any) -> None:
    request = getattr(task, "request", None)
    if request is None or request.is_eager:  # run in the caller's thread: its context stays
        return
    REQUEST_ID.set(getattr(request, REQUEST_ID_HEADER, None))
    ORDER_NUMBER.set(None)


def _clear_task_context(task=None, **_: Any) -> None:
    request = getattr(task, "request", None)
    if request is None or request.is_eager:
        return
    REQUEST_ID.set(None)
    ORDER_NUMBER.set(None)
