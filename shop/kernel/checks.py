"""
System checks for what would otherwise only show as errors once the shop serves.

Static files: with ``DEBUG`` off the static files storage serves hashed names from the manifest
that ``collectstatic`` writes (WhiteNoise's ``CompressedManifestStaticFilesStorage``). Without it
every page that links a static file (the admin, the API docs) is a 500, while the API answers.
The check stops ``manage.py`` commands (``check``, ``migrate``, ``runserver``; ``collectstatic``
runs only the checks tagged ``staticfiles``) and ``/readyz`` names ``static`` for servers that
run no checks (gunicorn).
"""

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import Error, register


def static_manifest_missing() -> bool:
    """True when the static files storage needs a manifest and has none (no ``collectstatic``)."""
    return isinstance(staticfiles_storage, ManifestFilesMixin) and not staticfiles_storage.hashed_files


@register()
def static_files_collected(app_configs, **kwargs):
    """Error ``shop.E001`` when the static files' manifest is missing."""
    if not static_manifest_missing():
        return []
    manifest = f"{settings.STATIC_ROOT}/{staticfiles_storage.manifest_name}"
    return [
        Error(
            f"The static files were not collected: {manifest} is missing, so the admin and the API "
            "docs would answer 500.",
            hint="Run `python manage.py collectstatic --no-input` (the Docker image does it when built).",
            id="shop.E001",
        )
    ]
