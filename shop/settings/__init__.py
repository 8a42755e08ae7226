"""Settings: ``base`` is read from the environment for every deployment; ``test`` adds test defaults."""

from django.core.exceptions import ImproperlyConfigured


class SettingsError(ImproperlyConfigured):
    """
    A variable of the environment (or of ``.env``) is missing or wrong. Its message says how to
    fix it; ``manage.py`` prints it as one line, without a traceback.
    """
