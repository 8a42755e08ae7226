"""
The OpenAPI schema against the shop itself: schemathesis generates requests from the schema served
at ``/api/schema/``, sends them to a live server (pytest-django's ``live_server``: the WSGI app in a
thread, on the test database, real PostgreSQL) and runs every one of its checks on each answer:
no server error, documented status codes, content types, headers and bodies, schema-violating
requests refused, schema-valid ones accepted, missing required headers refused, unsupported methods
answered 405 with ``Allow``, authentication not ignored, and, in the stateful run, resources gone
after a delete and available after a create.

A small shop is seeded first (a few demo products with stock, a staff user and a customer with
bearer tokens, the customer's cart with a line, an open checkout, a placed order, an export and
two import jobs), and the path parameters point at it, so that generated requests reach the views'
logic rather than stopping at a 404. Staff operations are sent with the staff token, the others
with the customer's; sign-out, which revokes the token it is sent with, with a token of its own
(revoked by the first call, so the others get the 401 of a revoked token).

A schema-valid request may still be refused with a 400 for a rule that a schema cannot state
(an unknown SKU, a taken e-mail, an empty cart): the contract names those codes, and
``BUSINESS_RULE_CODES`` lists them per operation. Only those operations accept a 400 for valid
data, and only with one of their codes (``business_rule_code`` below): a 400 ``invalid`` for a
schema-valid request is always a disagreement between the schema and the view.

Bounded for CI: a fixed number of examples per operation, derandomized (the same cases each run),
no example database.
"""

import io
from importlib import import_module

import pytest
import requests
import schemathesis
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from shop.accounts import services as account_services
from tests.checkout.support import ADDRESS

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

MAX_EXAMPLES = 25

# Operations whose contract refuses some schema-valid requests with a 400, and the codes
# (`invalid:<field>`: the code `invalid` with errors for that field alone).
# A cursor is opaque: only one that the server made can be read.
BUSINESS_RULE_CODES = {
    "POST /api/v1/auth/register/": {"email_taken", "weak_password"},
    "GET /api/v1/catalog/categories/": {"invalid:cursor"},
    # category: no such slug; price_max: below price_min
    "GET /api/v1/catalog/products/": {"invalid:category", "invalid:cursor", "invalid:price_max"},
    "POST /api/v1/carts/{token}/lines/": {"unknown_sku", "too_many_lines", "invalid:quantity"},
    "POST /api/v1/checkouts/": {"empty_cart"},
    "PATCH /api/v1/checkouts/{checkout_id}/": {"invalid_shipping_method"},
    "POST /api/v1/checkouts/{checkout_id}/complete/": {"checkout_incomplete"},
    "PUT /api/v1/inventory/stock/{sku}/": {"unknown_warehouse"},
    "GET /api/v1/orders/": {"invalid:cursor"},
    "GET /api/v1/integrations/handovers/": {"invalid:cursor"},
    "POST /api/v1/integrations/price-imports/": {"empty", "not_csv", "bad_header", "too_large"},
    "POST /api/v1/integrations/product-imports/": {"empty", "not_csv", "bad_header", "too_large"},
}
# Other answers to schema-valid requests that the contract gives: a declined payment, a key reused.
OTHER_OUTCOMES = {"POST /api/v1/checkouts/{checkout_id}/complete/": ["402", "422"]}
DEFAULT_ACCEPTANCE = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


@schemathesis.check
def business_rule_code(ctx, response, case):
    """A schema-valid request refused with a 400 carries one of its operation's business-rule codes."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    allowed = BUSINESS_RULE_CODES.get(case.operation.label, set())
    body = response.json() if response.content else {}
    code = body.get("code")
    if code == "invalid":
        code = "invalid:" + ",".join(sorted(body.get("errors") or {}))
    if code not in allowed:
        raise AssertionError(
            f"A schema-valid request was refused with 400 `{code}`; this operation may refuse valid "
            f"data only for {sorted(allowed) or 'no rule'}: {response.text[:300]}"
        )
    return None


class Client:
    """Requests to the live server with one identity, each asserted to succeed."""

    def __init__(self, api: str, headers: dict[str, str]):
        self.api = api
        self.headers = headers

    def send(self, method: str, path: str, *, headers=None, **kwargs) -> dict:
        response = requests.request(
            method, f"{self.api}{path}", headers={**self.headers, **(headers or {})}, timeout=10, **kwargs
        )
        assert response.status_code in (200, 201, 202), (method, path, response.status_code, response.text)
        return response.json()


@pytest.fixture
def shop_stack(live_server, transactional_db):
    """A small shop behind the live server; the ids and tokens that the generated requests use."""
    import_module("checkout.migrations.0002_shipping_methods").create(apps, None)
    call_command("seed_demo", "--products", "6", "--seed", "3", stdout=io.StringIO())
    api = f"{live_server.url}/api/v1"

    staff_user = get_user_model().objects.create_user(
        "staff@example.com", "staff@example.com", "a-long-staff-passphrase", is_staff=True
    )
    staff = Client(api, {"Authorization": f"Bearer {account_services.token_issue(user=staff_user)}"})
    credentials = {"email": "ada@example.com", "password": "a-long-enough-passphrase"}
    anonymous = Client(api, {})
    anonymous.send("POST", "/auth/register/", json=credentials)
    customer = Client(
        api, {"Authorization": f"Bearer {anonymous.send('POST', '/auth/token/', json=credentials)['token']}"}
    )

    slug = anonymous.send("GET", "/catalog/products/", params={"in_stock": "true"})["results"][0]["slug"]
    variants = anonymous.send("GET", f"/catalog/products/{slug}/")["variants"]
    sku = next(variant["sku"] for variant in variants if variant["in_stock"])

    def ready_checkout(cart_token: str) -> str:
        checkout_id = customer.send("POST", "/checkouts/", json={"cart_token": cart_token})["id"]
        filled = {"email": credentials["email"], "shipping_address": ADDRESS, "shipping_method": "standard"}
        customer.send("PATCH", f"/checkouts/{checkout_id}/", json=filled)
        return checkout_id

    cart = customer.send("POST", "/carts/", json={})["token"]
    customer.send("POST", f"/carts/{cart}/lines/", json={"sku": sku, "quantity": 1})
    order = customer.send(
        "POST",
        f"/checkouts/{ready_checkout(cart)}/complete/",
        json={"payment_token": "tok_success"},
        headers={"Idempotency-Key": "seed-order"},
    )
    customer.send("POST", f"/carts/{cart}/lines/", json={"sku": sku, "quantity": 1})
    checkout_id = ready_checkout(cart)
    line_id = customer.send("POST", f"/carts/{cart}/lines/", json={"sku": sku, "quantity": 1})["lines"][0][
        "id"
    ]

    prices = b"sku,amount,currency\n" + f"{sku},9.99,EUR\n".encode()
    products = (
        b"sku,product_slug,product_name,variant_name,category,description,attributes\n"
        b"TNT-1-G,alpine-tent,Alpine Tent,Green,tents,A storm-proof tent.,\n"
    )
    jobs = {
        "/api/v1/integrations/exports/": staff.send("POST", "/integrations/exports/", json={"format": "csv"}),
        "/api/v1/integrations/price-imports/": staff.send(
            "POST", "/integrations/price-imports/", files={"file": ("prices.csv", prices, "text/csv")}
        ),
        "/api/v1/integrations/product-imports/": staff.send(
            "POST", "/integrations/product-imports/", files={"file": ("products.csv", products, "text/csv")}
        ),
    }
    customer_user = get_user_model().objects.get(email=credentials["email"])
    return {
        "customer_auth": customer.headers,
        "staff_auth": staff.headers,
        "sign_out_auth": {"Authorization": f"Bearer {account_services.token_issue(user=customer_user)}"},
        "parameters": {
            "path.slug": slug,
            "path.sku": sku,
            "path.token": cart,
            "path.line_id": line_id,
            "path.checkout_id": checkout_id,
            "path.number": order["number"],
            "path.order_number": order["number"],
        },
        "ids": {prefix: job["id"] for prefix, job in jobs.items()},
    }


def _operation(path_regex: str, **config) -> dict:
    return {"include-path-regex": path_regex, **config}


@pytest.fixture
def shop_api_schema(live_server, shop_stack):
    operations = [
        _operation("^/api/v1/(inventory|integrations)/", headers=shop_stack["staff_auth"]),
        _operation("^/api/v1/auth/logout/$", headers=shop_stack["sign_out_auth"]),
        # Not as the global headers: some of schemathesis's requests take those, and sign-out must
        # never revoke the customer's token.
        _operation("^/api/v1/(?!auth/logout/)", headers=shop_stack["customer_auth"]),
        *(
            _operation(f"^{prefix}\\{{id\\}}/", parameters={"path.id": job_id})
            for prefix, job_id in shop_stack["ids"].items()
        ),
        *(
            {
                "include-name": label,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [
                            *DEFAULT_ACCEPTANCE,
                            *(["400"] if label in BUSINESS_RULE_CODES else []),
                            *OTHER_OUTCOMES.get(label, []),
                        ]
                    }
                },
            }
            for label in BUSINESS_RULE_CODES.keys() | OTHER_OUTCOMES.keys()
        ),
        # The stateful run links a new cart (POST /carts/) to a line's URL by its token, but a new
        # cart has no lines: its 404 for the line is right, not a created resource gone missing.
        _operation(
            "^/api/v1/carts/\\{token\\}/lines/\\{line_id\\}/$",
            checks={"ensure_resource_availability": {"enabled": False}},
        ),
    ]
    config = schemathesis.Config.from_dict(
        {
            "parameters": shop_stack["parameters"],
            "operations": operations,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"max-steps": 6}},
            "suppress-health-check": ["too_slow", "filter_too_much"],
            "request-timeout": 30,
        }
    )
    return schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", config=config)


schema = schemathesis.pytest.from_fixture("shop_api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32's lazy loader renames the test through ``node._nodeid``, gone in pytest 9.2."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_every_operation_answers_as_its_schema_says(case):
    case.call_and_validate()


def test_sequences_of_operations_answer_as_the_schema_says(shop_api_schema):
    shop_api_schema.as_state_machine().run()
