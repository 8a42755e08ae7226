"""Registration and sign-in (token), throttled per client address; sign-out revokes a token."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.accounts import services
from shop.accounts.rest_api.authentication import BearerTokenAuthentication
from shop.accounts.rest_api.serializers import AccountSerializer, CredentialsSerializer, TokenSerializer
from shop.accounts.rest_api.throttling import AuthRateThrottle
from shop.kernel.http.problems import Problem
from shop.kernel.http.schema import problem_responses


class AuthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]


class RegisterView(AuthView):
    """Create a customer account with e-mail and password."""

    @extend_schema(
        operation_id="auth_register",
        summary="Register a customer account",
        request=CredentialsSerializer,
        responses={201: AccountSerializer, **problem_responses(400, 429, 503)},
    )
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = services.customer_register(**credentials.validated_data)
        return Response(
            AccountSerializer({"id": user.pk, "email": user.email}).data, status=status.HTTP_201_CREATED
        )


class TokenView(AuthView):
    """Exchange e-mail and password for a bearer token."""

    @extend_schema(
        operation_id="auth_token",
        summary="Sign in: exchange e-mail and password for a bearer token",
        request=CredentialsSerializer,
        responses={200: TokenSerializer, **problem_responses(400, 401, 429, 503)},
    )
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=services.normalise_email(credentials.validated_data["email"]),
            password=credentials.validated_data["password"],
        )
        if user is None:
            raise Problem(401, "invalid_credentials", "E-mail or password is wrong.")
        return Response({"token": services.token_issue(user=user)})


class LogoutView(APIView):
    """
    Sign out: revoke the bearer token the request is made with. The customer's other tokens
    (other devices) stay valid. Only a bearer token signs out, so a session cookie alone is a 401.
    """

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        summary="Sign out: revoke this bearer token",
        request=None,
        responses={204: None, **problem_responses(401, 429, 503)},
    )
    def post(self, request):
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
