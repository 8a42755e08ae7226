"""``Authorization: Bearer <token>`` for the API."""

from rest_framework import authentication, exceptions

from shop.accounts.selectors import user_for_token_digest
from shop.accounts.services import token_digest


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a request by a token from ``/api/v1/auth/token/``; answers 401 without one."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        try:
            token = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        user = user_for_token_digest(token_digest(token))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return user, token

    def authenticate_header(self, request):
        return self.keyword
