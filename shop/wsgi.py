"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")

if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
    # runserver's process: traces if the OTEL_* variables ask (under gunicorn: post_fork does,
    # as this module is loaded in the master before the fork).
    from shop import telemetry

    telemetry.setup("web")

application = get_wsgi_application()
