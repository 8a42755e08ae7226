"""Registration, bearer tokens and throttled sign-in (the OpenAPI schema, tag accounts)."""

import pytest
from rest_framework.test import APIClient

from shop.accounts import api
from shop.accounts.models import AccessToken

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery-staple"


def register(client, email="ada@example.com", password=PASSWORD):
    return client.post(REGISTER, {"email": email, "password": password}, format="json")


def test_register_then_sign_in_with_a_bearer_token(api_client):
    response = register(api_client, email="Ada@Example.com")
    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "email": "ada@example.com"}

    token = api_client.post(TOKEN, {"email": "ADA@example.com", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    bearer = token.json()["token"]
    assert len(bearer) >= 40

    stored = AccessToken.objects.get()
    assert bearer not in stored.digest  # only the digest is stored
    assert api.get_customer(customer_id=response.json()["id"]).email == "ada@example.com"


def test_the_bearer_token_authenticates_requests():
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    class WhoAmI(APIView):
        permission_classes = [IsAuthenticated]

        def get(self, request):
            return Response({"id": request.user.pk})

    client = APIClient()
    user_id = register(client).json()["id"]
    bearer = client.post(TOKEN, {"email": "ada@example.com", "password": PASSWORD}, format="json").json()[
        "token"
    ]
    factory = APIRequestFactory()
    view = WhoAmI.as_view()

    ok = view(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {bearer}"))
    assert ok.status_code == 200 and ok.data == {"id": user_id}

    anonymous = view(factory.get("/"))
    anonymous.render()
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Bearer"
    assert anonymous.data["code"] == "not_authenticated"

    wrong = view(factory.get("/", HTTP_AUTHORIZATION="Bearer not-a-token"))
    assert wrong.status_code == 401
    assert wrong.data["code"] == "not_authenticated"


def test_email_taken_is_400_with_its_code(api_client):
    register(api_client)

    response = register(api_client, email="ADA@example.com")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "email_taken"
    assert "email" in response.json()["errors"]


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "ada@example.com"])
def test_weak_passwords_are_refused(api_client, password):
    response = register(api_client, password=password)

    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"
    assert response.json()["errors"]["password"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@example.com"},
        {"email": None, "password": 1},
    ],
)
def test_bad_registration_input_is_400_invalid(api_client, body):
    response = api_client.post(REGISTER, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_wrong_password_is_401_invalid_credentials(api_client):
    register(api_client)

    for email, password in [("ada@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)]:
        response = api_client.post(TOKEN, {"email": email, "password": password}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    assert AccessToken.objects.count() == 0


def test_sign_in_attempts_are_throttled(api_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth": "3/min", "anon": None, "user": None})
    register(api_client)  # registration and sign-in share the "auth" budget of the client address
    statuses = [
        api_client.post(TOKEN, {"email": "ada@example.com", "password": "guess"}, format="json").status_code
        for _ in range(2)
    ]

    response = api_client.post(TOKEN, {"email": "ada@example.com", "password": PASSWORD}, format="json")

    assert statuses == [401, 401]
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("num_proxies", [0, 1])
def test_the_sign_in_budget_is_per_client_address_as_num_proxies_says(
    api_client, monkeypatch, settings, num_proxies
):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth": "2/min", "anon": None, "user": None})
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}

    def sign_in(forwarded_for):
        body = {"email": "ada@example.com", "password": "guess"}
        return api_client.post(TOKEN, body, format="json", HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    # Behind one proxy the client is the last X-Forwarded-For entry (the one the proxy added);
    # without a proxy the header is the client's own word and ignored (REMOTE_ADDR counts).
    assert [sign_in("198.51.100.1, 203.0.113.7") for _ in range(3)] == [401, 401, 429]
    assert sign_in("10.9.9.9, 203.0.113.7") == 429  # a forged first entry buys no new budget
    assert sign_in("203.0.113.8") == (401 if num_proxies else 429)  # another client behind the proxy
