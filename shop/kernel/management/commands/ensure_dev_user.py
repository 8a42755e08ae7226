"""``manage.py ensure_dev_user``: the development staff user that ``make run`` prints."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create (or reset) the development superuser. Refused unless DEBUG is on."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument("--password", default="shop-admin")

    def handle(self, *args, email, password, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_dev_user only runs with DEBUG on: it sets a known password.")
        user_model = get_user_model()
        user = user_model.objects.filter(username=email).first() or user_model(username=email, email=email)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Staff user: {email} / {password}")
