"""Bearer tokens. Customers are Django's users (username = the lower-cased e-mail)."""

from django.conf import settings
from django.db import models


class AccessToken(models.Model):
    """A bearer token; only its SHA-256 digest is stored, so a database leak reveals no token."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"
