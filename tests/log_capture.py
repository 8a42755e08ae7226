"""Capturing log lines as the settings' console handler prints them, for tests of what logs hold."""

import contextlib
import io
import logging

from shop import logs


@contextlib.contextmanager
def captured_logs():
    """The lines the settings' console handler writes meanwhile, in both formats (JSON and console)."""
    console = next(handler for handler in logging.getLogger().handlers if handler.filters)
    streams = {"json": io.StringIO(), "console": io.StringIO()}
    handlers = []
    for name, formatter in (("json", logs.JsonFormatter()), ("console", logs.ConsoleFormatter())):
        handler = logging.StreamHandler(streams[name])
        handler.filters = list(console.filters)
        handler.setFormatter(formatter)
        handlers.append(handler)
        logging.getLogger().addHandler(handler)
    lines: list[str] = []
    try:
        yield lines
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
        lines.extend(streams["json"].getvalue().splitlines() + streams["console"].getvalue().splitlines())
