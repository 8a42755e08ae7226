"""
One exception per fact, one HTTP table per context: every exception a context's ``rest_api`` can
meet maps, through its ``rest_api/problems.py``, to a problem code its README documents, and the
kernel's handler answers it as problem+json. An exception no table maps is a 500, never a silent
answer.
"""

import inspect
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.urls import path
from rest_framework.views import APIView

from cart import errors as cart_errors
from catalog import errors as catalog_errors
from checkout import errors as checkout_errors
from integrations import errors as integration_errors
from inventory import errors as inventory_errors
from inventory.data import Shortage
from shop.accounts import errors as account_errors
from shop.kernel.http.problems import maps_for, problem_table
from tests.problems import assert_problem

ROOT = Path(__file__).resolve().parents[2]

#: What each HTTP layer can meet: its own context's refusals and those it lets through from the
#: contexts its services call (the ``Raises:`` of the services and api functions its views call).
MEETS = {
    "cart": [
        cart_errors.CartNotFound,
        cart_errors.LineNotFound,
        cart_errors.QuantityTooLarge,
        cart_errors.TooManyLines,
        catalog_errors.UnknownSku,
        catalog_errors.NotForSale,
        inventory_errors.InsufficientStock,
    ],
    "checkout": [
        checkout_errors.CheckoutNotFound,
        checkout_errors.EmptyCart,
        checkout_errors.CheckoutIncomplete,
        checkout_errors.CheckoutNotOpen,
        checkout_errors.CompletionInProgress,
        checkout_errors.UnknownShippingMethod,
        checkout_errors.PaymentDeclined,
        checkout_errors.PaymentTimeout,
        checkout_errors.KeyReused,
        checkout_errors.RequestInProgress,
        checkout_errors.NotCancelable,
        checkout_errors.FulfilmentStarted,
        inventory_errors.InsufficientStock,
        inventory_errors.ReservationExpired,
        inventory_errors.NothingReserved,
    ],
    "inventory": [
        inventory_errors.UnknownSku,
        inventory_errors.UnknownWarehouse,
        inventory_errors.BelowReserved,
    ],
    "integrations": [
        integration_errors.FileTooLarge,
        integration_errors.FileEmpty,
        integration_errors.NotCsv,
        integration_errors.BadHeader,
        integration_errors.ExportNotReady,
        integration_errors.ExportFileMissing,
        integration_errors.HandoverNotFound,
        integration_errors.HandoverNotFailed,
    ],
    "shop.accounts": [account_errors.EmailTaken, account_errors.WeakPassword],
}

#: Exceptions of an ``errors.py`` that no HTTP layer meets, and why.
NOT_OVER_HTTP = {
    checkout_errors.IllegalTransition: "the status machine's refusal; integrations and the admin handle it",
    checkout_errors.OrderCanceled: "the ERP hand-over skips a canceled order",
    checkout_errors.UnknownOrder: "integrations ask for orders by number; a view 404s before",
    integration_errors.ImportFileInvalid: "the base of the four upload refusals, never raised itself",
    integration_errors.ImportFileUnreadable: "a job fails with it, in the worker",
    integration_errors.ImportFileMissing: "a job fails with it, in the worker",
}

SAMPLES = {
    inventory_errors.InsufficientStock: lambda: inventory_errors.InsufficientStock(
        [Shortage(sku="A-1", requested=3, available=1)]
    ),
    inventory_errors.ReservationExpired: lambda: inventory_errors.ReservationExpired(
        [Shortage(sku="A-1", requested=3, available=0)]
    ),
    inventory_errors.NothingReserved: lambda: inventory_errors.NothingReserved("ref-1"),
    inventory_errors.UnknownSku: lambda: inventory_errors.UnknownSku("A-1"),
    inventory_errors.UnknownWarehouse: lambda: inventory_errors.UnknownWarehouse("NOPE"),
    inventory_errors.BelowReserved: lambda: inventory_errors.BelowReserved(
        sku="A-1", warehouse="MAIN", on_hand=1, reserved=2
    ),
    catalog_errors.NotForSale: lambda: catalog_errors.NotForSale("A-1"),
    cart_errors.QuantityTooLarge: lambda: cart_errors.QuantityTooLarge(101),
    cart_errors.TooManyLines: lambda: cart_errors.TooManyLines(50),
    checkout_errors.CheckoutIncomplete: lambda: checkout_errors.CheckoutIncomplete(["email"]),
    checkout_errors.CheckoutNotOpen: lambda: checkout_errors.CheckoutNotOpen("completed"),
    checkout_errors.UnknownShippingMethod: lambda: checkout_errors.UnknownShippingMethod("teleport"),
    checkout_errors.NotCancelable: lambda: checkout_errors.NotCancelable("shipped"),
    checkout_errors.FulfilmentStarted: lambda: checkout_errors.FulfilmentStarted("paid"),
    integration_errors.ExportNotReady: lambda: integration_errors.ExportNotReady("running"),
    integration_errors.HandoverNotFound: lambda: integration_errors.HandoverNotFound("261207-AAAA"),
    account_errors.EmailTaken: lambda: account_errors.EmailTaken("ada@example.com"),
    account_errors.WeakPassword: lambda: account_errors.WeakPassword(["This password is too common."]),
}


def sample(exception_class):
    make = SAMPLES.get(exception_class)
    if make is not None:
        return make()
    try:
        return exception_class("Refused.")
    except TypeError:
        return exception_class()


def context_readme(context: str) -> str:
    return (ROOT / context.replace(".", "/") / "README.md").read_text()


def view_in(context: str) -> type[APIView]:
    """An APIView whose module is the context's HTTP layer, so the handler reads that table."""
    return type("Probe", (APIView,), {"__module__": f"{context}.rest_api.views"})


ERRORS_MODULES = [
    catalog_errors,
    cart_errors,
    checkout_errors,
    integration_errors,
    inventory_errors,
    account_errors,
]


def public_exceptions(module) -> list[type[Exception]]:
    return [
        value
        for name, value in vars(module).items()
        if not name.startswith("_") and inspect.isclass(value) and issubclass(value, Exception)
        if value.__module__ == module.__name__ or name in getattr(module, "__all__", ())
    ]


@pytest.mark.parametrize("context", list(MEETS))
def test_every_exception_the_http_layer_meets_maps_to_a_documented_code(context):
    table = problem_table(view_in(context)())
    readme = context_readme(context)

    for exception_class in MEETS[context]:
        entry = maps_for(sample(exception_class), table)

        assert entry is not None, f"{context}/rest_api/problems.py does not map {exception_class.__name__}"
        row = rf"^\| `[\w.]*\b{exception_class.__name__}` \|.*\| {entry.status} `{entry.code}`"
        answer = f"{entry.status} `{entry.code}`"
        assert re.search(row, readme, re.MULTILINE), (
            f"{context}/README.md, Errors: no row of `{exception_class.__name__}` answering {answer}"
        )


@pytest.mark.parametrize("context", list(MEETS))
def test_every_entry_of_a_table_is_an_exception_the_layer_meets(context):
    """No dead rows: a table maps what its layer can meet, nothing else."""
    table = problem_table(view_in(context)())

    assert set(table) <= set(MEETS[context]), set(table) - set(MEETS[context])


def test_every_exception_of_an_errors_module_is_met_over_http_or_said_not_to_be():
    met = {exception_class for classes in MEETS.values() for exception_class in classes}

    for module in ERRORS_MODULES:
        for exception_class in public_exceptions(module):
            assert exception_class in met or exception_class in NOT_OVER_HTTP, (
                f"{module.__name__}.{exception_class.__name__}: map it in a rest_api/problems.py "
                "(and add it to MEETS) or say in NOT_OVER_HTTP why no HTTP layer meets it"
            )


def test_each_context_has_one_errors_module_and_each_http_layer_one_table():
    for context in ["catalog", "cart", "checkout", "inventory", "integrations", "shop.accounts"]:
        assert import_module(f"{context}.errors")
    for context in MEETS:
        assert import_module(f"{context}.rest_api.problems").PROBLEMS


# --- through the handler: a view raises, the client reads the problem ---------------------------


class Unmapped(Exception):
    """No table maps this."""


def _raising_view(context: str, exception: Exception) -> type[APIView]:
    def get(self, request):
        raise exception

    return type("Probe", (APIView,), {"__module__": f"{context}.rest_api.views", "get": get})


CASES = [(context, exception_class) for context, classes in MEETS.items() for exception_class in classes]

urlpatterns = [
    path(f"probe/{index}/", _raising_view(context, sample(exception_class)).as_view())
    for index, (context, exception_class) in enumerate(CASES)
] + [path("unmapped/", _raising_view("cart", Unmapped("no row for me")).as_view())]
handler500 = "shop.kernel.http.problems.server_error_view"


@pytest.mark.urls("tests.shop.test_problem_tables")
@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c}-{e.__name__}" for c, e in CASES])
def test_the_handler_answers_each_with_its_status_and_code(client, index):
    context, exception_class = CASES[index]
    entry = maps_for(sample(exception_class), problem_table(view_in(context)()))

    body = assert_problem(client.get(f"/probe/{index}/"), entry.status, entry.code)

    assert body["detail"]


@pytest.mark.urls("tests.shop.test_problem_tables")
def test_an_exception_no_table_maps_is_a_500_and_fails_a_test_loudly(client):
    with pytest.raises(Unmapped):
        client.get("/unmapped/")  # the test client re-raises what the server did not answer

    client.raise_request_exception = False
    assert_problem(client.get("/unmapped/"), 500, "server_error")
