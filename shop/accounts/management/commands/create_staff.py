"""``manage.py create_staff --email ...``: a staff user who signs in with the e-mail address."""

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from shop.accounts import selectors, services

PASSWORD_VARIABLE = "STAFF_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class Command(BaseCommand):
    help = (
        "Create a staff user (superuser) who signs in to the admin and to /api/v1/auth/token/ with "
        "the e-mail address, or make the user with that address one, and set the password. The "
        f"password comes from the environment variable {PASSWORD_VARIABLE}, else from a prompt. "
        "Works with DEBUG off (production, docker compose)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="the address the staff user signs in with")
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="do nothing when a user signs in with this address already (its password stays)",
        )

    def handle(self, *args, email, if_absent, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not an e-mail address: {email!r}.") from None
        if if_absent and selectors.user_for_sign_in(services.normalise_email(email)) is not None:
            self.stdout.write(f"A user signs in with {email} already; left as it is.")
            return
        password = os.environ.get(PASSWORD_VARIABLE) or self._prompt()
        try:
            user, created = services.staff_user_ensure(email=email, password=password)
        except ValidationError as exc:
            raise CommandError(f"The password is too weak: {' '.join(exc.messages)}") from None
        self.stdout.write(f"Staff user {user.email} {'created' if created else 'updated'}.")

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(
                f"No password: set {PASSWORD_VARIABLE}, or run the command in a terminal to be asked for one."
            )
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        if not password:
            raise CommandError("The password is empty.")
        return password
