"""WSGI entry point."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")

if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
    # runserver's process: traces if the OTEL_* variables ask (under gunicorn: post_fork does,
    # as this module is loaded in the master before the fork).
    from shop import telemetry

    telemetry.setup("web")

application = get_wsgi_application()
# What answers before Django's handler (settings.WSGI_FRONTS, the first outermost).
for front in reversed(settings.WSGI_FRONTS):
    application = import_string(front)(application)
