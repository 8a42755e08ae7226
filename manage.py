#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")
    from django.core.management import execute_from_command_line

    from shop.settings import SettingsError

    try:
        execute_from_command_line(sys.argv)
    except SettingsError as error:  # a missing or wrong variable: its message, not a traceback
        sys.exit(f"Configuration error: {error}")


if __name__ == "__main__":
    main()
