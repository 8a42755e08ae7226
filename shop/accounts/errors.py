"""
What accounts refuse, one exception per fact; ``shop/accounts/rest_api/problems.py`` says how
each is answered over HTTP. (Wrong credentials at sign-in are not an exception: ``authenticate``
answers None and the view says 401 ``invalid_credentials``.)
"""

from django.core.exceptions import ValidationError


class EmailTaken(Exception):
    """An account with this e-mail address exists (compared case-insensitively)."""

    def __init__(self, email: str):
        super().__init__("An account with this e-mail exists.")
        self.email = email


class WeakPassword(ValidationError):
    """The password fails the configured validators; ``messages`` says why, one per rule."""
