"""
Settings as a fresh process computes them from its environment, for tests of the embedded
defaults (no ``REDIS_URL``) while the suite itself runs on the configured services, as in CI.
"""

import json
import os
import subprocess
import sys

from django.conf import settings

_PRINT_SETTINGS = (
    "import django, json, sys; django.setup(); from django.conf import settings; "
    "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))"
)


def settings_of_a_process(*names: str, env: dict[str, str]) -> dict:
    """The settings ``names`` of ``shop.settings.test`` in a new process with ``env`` added."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop.settings.test",
        "VAR_DIR": str(settings.VAR_DIR),
        **env,
    }
    output = subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS, *names],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def embedded_default_caches() -> dict:
    """``CACHES`` as the settings make it without ``REDIS_URL`` (on this run's ``VAR_DIR``)."""
    return settings_of_a_process("CACHES", env={"REDIS_URL": ""})["CACHES"]
