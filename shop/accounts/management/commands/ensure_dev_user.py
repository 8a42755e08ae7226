"""``manage.py ensure_dev_user``: the development staff user that ``make run`` prints."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop.accounts import services


class Command(BaseCommand):
    help = (
        "Create (or reset) the development superuser with a known password. Refused unless DEBUG is "
        "on; elsewhere `manage.py create_staff --email ...` makes a staff user."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument("--password", default="shop-admin")

    def handle(self, *args, email, password, **options):
        if not settings.DEBUG:
            raise CommandError(
                "ensure_dev_user only runs with DEBUG on: it sets a known password. "
                "Use `manage.py create_staff --email ...` instead."
            )
        services.staff_user_ensure(email=email, password=password, check_password=False)
        self.stdout.write(f"Staff user: {email} / {password}")
