"""One pricing rule: a cart and the checkout made from it quote the same lines to the same amounts."""

from decimal import Decimal

import pytest

from catalog import api as catalog_api
from checkout.models import ShippingMethod, ShippingRate
from inventory import api as inventory_api
from tests.catalog.factories import ProductFactory, VariantFactory, take_off_sale
from tests.checkout.support import cart_with, checkout_of, complete

pytestmark = pytest.mark.django_db

# Three-decimal prices (BHD has 3 minor units), so that no amount happens to fit two decimals.
PRICES = {"DALLAH-1": "1.234", "FINJAN-1": "0.005", "TRAY-1": "12.500"}
QUANTITIES = {"DALLAH-1": 3, "FINJAN-1": 7, "TRAY-1": 1}


@pytest.fixture
def bhd_shop(settings):
    """A shop priced in BHD: three products in stock, and standard shipping to Germany at 2.005."""
    settings.SHOP_CURRENCY = "BHD"
    inventory_api.ensure_warehouse(code="MAIN", name="Main")
    variants = {}
    for sku, price in PRICES.items():
        variants[sku] = VariantFactory(product=ProductFactory(name=sku.title()), sku=sku)
        catalog_api.set_price(sku=sku, amount=price, currency="BHD")
        inventory_api.set_on_hand(sku=sku, warehouse="MAIN", on_hand=10)
    ShippingRate.objects.create(
        method=ShippingMethod.objects.get(code="standard"),
        country="DE",
        currency="BHD",
        amount=Decimal("2.005"),
    )
    return variants


def _cart_and_checkout(client) -> tuple[str, str]:
    """A cart of ``QUANTITIES`` and a checkout of it, ready to complete: their token and id."""
    token = cart_with(client, QUANTITIES)
    return token, checkout_of(client, token)["id"]


def _priced(lines) -> list[tuple]:
    return [
        (line["sku"], line["name"], line["quantity"], line["unit_price"], line["line_total"])
        for line in lines
    ]


def _quoted(quote) -> list[tuple]:
    """``catalog.api.quote``'s sellable lines in the API's wire form."""
    return [
        (line.sku, line.name, line.quantity, line.unit_price.as_dict(), line.line_total.as_dict())
        for line in quote.lines
        if line.sellable
    ]


def test_the_cart_its_checkout_and_the_order_have_the_catalogs_quote(api_client, bhd_shop):
    token, checkout_id = _cart_and_checkout(api_client)
    quote = catalog_api.quote(lines=QUANTITIES.items(), currency="BHD")

    cart = api_client.get(f"/api/v1/carts/{token}/").json()
    checkout = api_client.get(f"/api/v1/checkouts/{checkout_id}/").json()
    assert _priced(cart["lines"]) == _priced(checkout["lines"]) == _quoted(quote)
    assert [line["line_total"]["amount"] for line in cart["lines"]] == ["3.702", "0.035", "12.500"]
    assert cart["subtotal"] == checkout["subtotal"] == quote.subtotal.as_dict()
    assert cart["subtotal"] == {"amount": "16.237", "currency": "BHD"}
    assert checkout["total"] == {"amount": "18.242", "currency": "BHD"}  # the quote plus shipping

    placed = complete(api_client, checkout_id)
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert _priced(order["lines"]) == _priced(checkout["lines"])
    assert (order["subtotal"], order["total"]) == (checkout["subtotal"], checkout["total"])


def test_a_new_price_and_a_line_off_sale_change_the_cart_and_the_checkout_alike(api_client, bhd_shop):
    token, checkout_id = _cart_and_checkout(api_client)
    catalog_api.set_price(sku="TRAY-1", amount="9.999", currency="BHD")
    take_off_sale(sku="FINJAN-1")
    quote = catalog_api.quote(lines=QUANTITIES.items(), currency="BHD")
    assert quote.unsellable == ("FINJAN-1",)

    cart = api_client.get(f"/api/v1/carts/{token}/").json()
    checkout = api_client.get(f"/api/v1/checkouts/{checkout_id}/").json()
    assert [line["sku"] for line in cart["lines"] if not line["sellable"]] == ["FINJAN-1"]
    sold = [line for line in cart["lines"] if line["sellable"]]
    assert _priced(sold) == _priced(checkout["lines"]) == _quoted(quote)
    assert cart["subtotal"] == checkout["subtotal"] == {"amount": "13.701", "currency": "BHD"}

    refused = complete(api_client, checkout_id)
    assert refused.status_code == 409, refused.content
    assert refused.json()["skus"] == ["FINJAN-1"]
