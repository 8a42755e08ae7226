"""Settings: ``base`` is read from the environment for every deployment; ``test`` adds test defaults."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class SettingsError(ImproperlyConfigured):
    """
    A variable of the environment (or of ``.env``) is missing or wrong. Its message says how to
    fix it; ``manage.py`` prints it as one line, without a traceback.
    """


def read_env_file() -> str:
    """
    Put the variables of the ``.env`` file (``ENV_FILE``, by default at the project root) that the
    environment does not set into ``os.environ``: real environment variables win. ``ENV_FILE=``
    (empty) reads none, as the test settings do. Returns the file's path ("" for none).
    """
    path = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
    if path:
        environ.Env.read_env(path)
    return path


def metrics_directory() -> Path:
    """
    The folder of prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, by default
    ``VAR_DIR/metrics``), created, and put into ``os.environ`` so that prometheus-client, which
    reads the variable when it is first imported, and every process started from here (gunicorn's
    workers, honcho's processes) write their samples there. Called by the settings, and by
    gunicorn.conf.py and ``shop.preflight`` before any settings are loaded.
    """
    read_env_file()
    default = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var") / "metrics"
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or default)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path
