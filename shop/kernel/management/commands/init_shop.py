"""
``manage.py init_shop``: what a fresh deployment needs before it serves (docker compose's one-shot
``init`` service): the migrations, the demo catalog if asked for, a staff user if one is named.
"""

import os

import environ
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Migrate; with SEED_DEMO=true seed the demo catalog into an empty database (DEMO_PRODUCTS "
        "products, default 2000); with STAFF_EMAIL and STAFF_PASSWORD set, create that staff user "
        "(`create_staff --if-absent`: an existing one keeps its password). Safe to run on every "
        "start: each step does nothing when already done."
    )

    def handle(self, *args, verbosity, **options):
        env = environ.Env()
        call_command("migrate", interactive=False, verbosity=verbosity)
        if env.bool("SEED_DEMO", default=False):
            call_command(
                "seed_demo",
                if_empty=True,
                products=env.int("DEMO_PRODUCTS", default=2000),
                verbosity=verbosity,
            )
        staff_email = os.environ.get("STAFF_EMAIL", "").strip()
        if staff_email and os.environ.get("STAFF_PASSWORD"):
            call_command("create_staff", email=staff_email, if_absent=True, verbosity=verbosity)
        elif staff_email:
            self.stderr.write("STAFF_EMAIL is set without STAFF_PASSWORD: no staff user created.")
        else:
            self.stdout.write(
                "No staff user named (STAFF_EMAIL, STAFF_PASSWORD). Create one with "
                "`docker compose run --rm init python manage.py create_staff --email you@example.com`."
            )
