"""
A client of ``shop.wsgi.application``, the WSGI application gunicorn and runserver serve: its
fronts (``WSGI_FRONTS``) and Django's handler. Django's test ``Client`` calls a handler of its own,
so what answers before Django's handler is seen only through this one.

Requests are built by Django's ``RequestFactory`` (headers as ``HTTP_*`` keyword arguments, cookies
in ``cookies``). As the test client does, it keeps Django's ``close_old_connections`` away from the
request's signals, which would close the test's database connection inside its transaction.
"""

import json
from http.cookies import SimpleCookie

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.utils.datastructures import CaseInsensitiveMapping


class WsgiResponse:
    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes):
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = CaseInsensitiveMapping(dict(headers))
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def json(self):
        return json.loads(self.content)


class WsgiClient:
    def __init__(self, **defaults):
        self.factory = RequestFactory(**defaults)
        self.cookies = SimpleCookie()

    def get(self, path: str, data=None, **extra) -> WsgiResponse:
        from shop.wsgi import application

        self.factory.cookies = self.cookies
        environ = self.factory.get(path, data, **extra).environ
        started: dict = {}

        def start_response(status, headers, exc_info=None):
            started.update(status=status, headers=headers)

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            body = application(environ, start_response)
            try:
                content = b"".join(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return WsgiResponse(started["status"], started["headers"], content)
