"""
Secrets kept out of log lines: a guest's order token (``?token=``, ``X-Order-Token``) and bearer
tokens. Access logs print the request line with its query string, and a link from an order
e-mail carries the token there; whoever reads the logs (or the proxy's) could open the order.

``RedactTokens`` is a logging filter (``LOGGING`` puts it on ``django.server``, runserver's access
log, on ``django.request`` and on the console handler); ``GunicornLogger`` is gunicorn's logger
class with the same redaction of its access log's atoms (``gunicorn.conf.py``).
"""

import logging
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# A query parameter that holds a token: `token=` (the order's) and `access_token=` (a common name
# that clients use for bearer tokens), at the start of a query string or after `?`, `&` or `;`.
TOKEN_PARAMETER = re.compile(r"(^|[?&;])((?:access_)?token=)[^&;#\s\"']*", re.IGNORECASE)
# Header and environment atoms of gunicorn's access log format whose whole value is a secret.
SECRET_ATOMS = frozenset(
    {
        "{x-order-token}i",
        "{authorization}i",
        "{cookie}i",
        "{http_x_order_token}e",
        "{http_authorization}e",
        "{http_cookie}e",
    }
)


def redact(text: str) -> str:
    """``text`` with the value of every token query parameter replaced by ``[redacted]``."""
    return TOKEN_PARAMETER.sub(rf"\1\2{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Rewrites a record whose message holds a token parameter; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: the handler reports it itself
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, its access log atoms redacted (the request line, query, referer, headers)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in SECRET_ATOMS:
                atoms[key] = REDACTED
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
