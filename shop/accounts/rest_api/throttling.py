"""The throttle of sign-in and registration."""

from shop.kernel.http.throttling import ClientAddressRateThrottle


class AuthRateThrottle(ClientAddressRateThrottle):
    """
    ``THROTTLE_AUTH`` attempts per client address, shared by sign-in and registration, counted
    atomically. Fails closed: with its store down every attempt is a 503 with ``Retry-After``,
    never an unlimited run of password guesses.
    """

    scope = "auth"
    fail_closed = True
