"""Sign-in by e-mail address, whatever the username (the token endpoint and the admin)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from shop.accounts.selectors import user_for_sign_in


class EmailOrUsernameBackend(ModelBackend):
    """
    Django's model backend, finding the user by username or else by e-mail address (compared
    case-insensitively). Registration makes the username the lower-cased e-mail, but a staff user
    made by ``createsuperuser --username boss --email boss@example.com`` has another one: without
    this, that user could sign in to the admin as "boss" and never get a bearer token.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = user_for_sign_in(username)
        if user is None:
            # Run the hasher anyway, so that an unknown address takes as long as a wrong password
            # (what Django's ModelBackend does).
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
