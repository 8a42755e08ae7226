"""
The load test's users: who comes to a shop and what each does, through the public HTTP API.

- ``Browser``: category lists, search with words of the catalog's own names, product details, and
  conditional re-reads (``If-None-Match`` with the ``ETag`` a detail came with: 304 expected).
- ``Shopper``: a cart, adds, quantity changes and removals, reads of the cart.
- ``Customer``: registers (or signs in again), fills a cart, checks out (address, shipping methods,
  shipping), completes with an ``Idempotency-Key``; some pay with ``tok_decline`` (402, then pay
  again), some abandon the checkout, some send the same completion twice (the replay).
- ``Staff``: one integration client with a staff bearer token: price imports, a stock sync (the
  staff ``PUT /inventory/stock/<sku>/`` a feed sends, SKU by SKU) and CSV exports, polled to the end.

Every request carries ``X-Campaign: <LOADTEST_CAMPAIGN>`` (the shop counts it by campaign when
``METRICS_CAMPAIGNS`` lists it). Names group URLs with ids (``/api/v1/carts/[token]/lines/``), so the
report has one row an endpoint. The catalog (categories, slugs, words, SKUs) is read once at the start.
"""

import os
import random
import re
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

from locust import FastHttpUser, between, constant_pacing, events, task

API = "/api/v1"
CAMPAIGN = os.environ.get("LOADTEST_CAMPAIGN", "loadtest").lower()
HEADERS = {"X-Campaign": CAMPAIGN}
PASSWORD = "load-test-Password-1"  # noqa: S105 - the load test's customers' password, not a secret
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
}
# Shares of the customers' completions (the rest complete once with tok_success).
ABANDON_SHARE = 0.10
DECLINE_SHARE = 0.10
RETRY_SHARE = 0.15
# Business answers the API documents for a request (not errors of the shop): counted as successes,
# and under their own name so that the report shows how many.
INSUFFICIENT_STOCK = 409


@dataclass
class Catalog:
    """What the users pick from, read once from the shop at the start."""

    categories: list[str] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    currency: str = "EUR"
    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded: bool = False


CATALOG = Catalog()


def load_catalog(client, *, pages: int = 5, details: int = 40) -> None:
    """Categories, ``pages`` pages of products (slugs, name words), SKUs of ``details`` products."""
    with CATALOG.lock:
        if CATALOG.loaded:
            return
        response = client.get(f"{API}/catalog/categories/?page_size=100", headers=HEADERS, name="setup")
        CATALOG.categories = [row["slug"] for row in response.json()["results"]]
        url, words = f"{API}/catalog/products/?page_size=100", Counter()
        for _ in range(pages):
            body = client.get(url, headers=HEADERS, name="setup").json()
            for product in body["results"]:
                CATALOG.slugs.append(product["slug"])
                CATALOG.currency = (product.get("price_from") or {}).get("currency", CATALOG.currency)
                words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", product["name"]))
            if not body.get("next"):
                break
            url = body["next"].split("://", 1)[-1].split("/", 1)[-1]
            url = "/" + url
        CATALOG.words = [word for word, _ in words.most_common(30)]
        for slug in random.sample(CATALOG.slugs, min(details, len(CATALOG.slugs))):
            product = client.get(f"{API}/catalog/products/{slug}/", headers=HEADERS, name="setup").json()
            CATALOG.skus += [variant["sku"] for variant in product["variants"] if variant.get("in_stock")]
        if not (CATALOG.slugs and CATALOG.skus):
            raise RuntimeError("the catalog has no products in stock: seed it first (make loadtest seeds)")
        CATALOG.loaded = True


class ShopUser(FastHttpUser):
    """A user of the shop's API with its campaign header; the catalog is loaded by the first one."""

    abstract = True

    def on_start(self) -> None:
        load_catalog(self.client)

    def call(self, method: str, path: str, *, name: str, expect=(200,), headers=None, **kwargs):
        """One request; a status outside ``expect`` is a failure (with the start of its body)."""
        with self.client.request(
            method,
            API + path,
            name=API + name,
            headers={**HEADERS, **(headers or {})},
            catch_response=True,
            **kwargs,
        ) as response:
            if response.status_code in expect:
                response.success()
            else:
                text = (response.text or "")[:160]
                response.failure(f"{response.status_code} {text}")
            return response

    @staticmethod
    def json(response) -> dict:
        try:
            return response.json()
        except Exception:  # noqa: BLE001 - a failed request has no JSON; the caller stops its sequence
            return {}


class Browser(ShopUser):
    """Reads the catalog as a visitor does: lists, search, details, conditional re-reads."""

    weight = 6
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        super().on_start()
        self.etags: dict[str, str] = {}

    @task(3)
    def category_list(self) -> None:
        slug = random.choice(CATALOG.categories) if CATALOG.categories else ""
        self.call("GET", f"/catalog/products/?category={slug}", name="/catalog/products/?category=[slug]")

    @task(1)
    def categories(self) -> None:
        self.call("GET", "/catalog/categories/", name="/catalog/categories/")

    @task(2)
    def search(self) -> None:
        word = random.choice(CATALOG.words) if CATALOG.words else "shirt"
        self.call("GET", f"/catalog/products/?search={word}", name="/catalog/products/?search=[word]")

    @task(4)
    def detail(self) -> None:
        slug = random.choice(CATALOG.slugs)
        response = self.call("GET", f"/catalog/products/{slug}/", name="/catalog/products/[slug]/")
        etag = response.headers.get("ETag")
        if etag:
            self.etags[slug] = etag

    @task(2)
    def detail_conditional(self) -> None:
        if not self.etags:
            return self.detail()
        slug, etag = random.choice(list(self.etags.items()))
        # 304 while the product is unchanged; 200 with a new ETag after a price import changed it.
        response = self.call(
            "GET",
            f"/catalog/products/{slug}/",
            name="/catalog/products/[slug]/ (If-None-Match)",
            headers={"If-None-Match": etag},
            expect=(304, 200),
        )
        if response.status_code == 200 and response.headers.get("ETag"):
            self.etags[slug] = response.headers["ETag"]


class Shopper(ShopUser):
    """Fills and edits a cart without buying: adds, quantity changes, removals."""

    weight = 3
    wait_time = between(1.0, 3.0)

    @task
    def edit_cart(self) -> None:
        token = self.json(self.call("POST", "/carts/", name="/carts/", json={}, expect=(201,))).get("token")
        if not token:
            return
        cart = {}
        for sku in random.sample(CATALOG.skus, min(3, len(CATALOG.skus))):
            response = self.call(
                "POST",
                f"/carts/{token}/lines/",
                name="/carts/[token]/lines/",
                json={"sku": sku, "quantity": random.randint(1, 2)},
                expect=(201, INSUFFICIENT_STOCK),
            )
            cart = self.json(response) if response.status_code == 201 else cart
        lines = cart.get("lines") or []
        if lines:
            line = random.choice(lines)
            self.call(
                "PATCH",
                f"/carts/{token}/lines/{line['id']}/",
                name="/carts/[token]/lines/[id]/ PATCH",
                json={"quantity": line["quantity"] + 1},
                expect=(200, INSUFFICIENT_STOCK),
            )
            self.call(
                "DELETE", f"/carts/{token}/lines/{line['id']}/", name="/carts/[token]/lines/[id]/ DELETE"
            )
        self.call("GET", f"/carts/{token}/", name="/carts/[token]/")


class Customer(ShopUser):
    """Registers or signs in, then buys: checkout, address, shipping, completion."""

    weight = 2
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        super().on_start()
        self.auth: dict[str, str] = {}
        self.email = ""
        self.register()

    def register(self) -> None:
        email = f"load-{uuid.uuid4().hex[:16]}@example.com"
        response = self.call(
            "POST",
            "/auth/register/",
            name="/auth/register/",
            json={"email": email, "password": PASSWORD},
            expect=(201,),
        )
        if response.status_code == 201:
            self.email = email
            self.sign_in(email)

    def sign_in(self, email: str) -> None:
        response = self.call(
            "POST", "/auth/token/", name="/auth/token/", json={"email": email, "password": PASSWORD}
        )
        token = self.json(response).get("token")
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def step(self, method: str, path: str, *, name: str, expect=(200,), headers=None, **kwargs):
        headers = {**self.auth, **(headers or {})}
        return self.call(method, path, name=name, expect=expect, headers=headers, **kwargs)

    @task
    def buy(self) -> None:
        if self.email and random.random() < 0.2:
            self.sign_in(self.email)  # back another day: signs in again (each customer its own account)
        # A signed-in customer's cart is theirs: 200 with the existing one, 201 with a new one.
        cart = self.json(self.step("POST", "/carts/", name="/carts/", json={}, expect=(200, 201)))
        token = cart.get("token")
        if not token:
            return
        added = 0
        for sku in random.sample(CATALOG.skus, min(random.randint(1, 3), len(CATALOG.skus))):
            response = self.step(
                "POST",
                f"/carts/{token}/lines/",
                name="/carts/[token]/lines/",
                json={"sku": sku, "quantity": 1},
                expect=(201, INSUFFICIENT_STOCK),
            )
            added += response.status_code == 201
        if not added:
            return
        response = self.step(
            "POST",
            "/checkouts/",
            name="/checkouts/",
            json={"cart_token": token},
            expect=(201, INSUFFICIENT_STOCK),
        )
        checkout = self.json(response).get("id") if response.status_code == 201 else None
        if not checkout:
            return
        email = self.email or "guest@example.com"
        self.step(
            "PATCH",
            f"/checkouts/{checkout}/",
            name="/checkouts/[id]/ PATCH address",
            json={"email": email, "shipping_address": ADDRESS},
        )
        methods = self.json(
            self.step(
                "GET", f"/checkouts/{checkout}/shipping-methods/", name="/checkouts/[id]/shipping-methods/"
            )
        )
        codes = [method["code"] for method in methods] if isinstance(methods, list) else []
        if not codes:
            return
        self.step(
            "PATCH",
            f"/checkouts/{checkout}/",
            name="/checkouts/[id]/ PATCH shipping",
            json={"shipping_method": random.choice(codes)},
        )
        roll = random.random()
        if roll < ABANDON_SHARE:
            return  # abandoned: the reservation runs out (CHECKOUT_RESERVATION_TTL)
        if roll < ABANDON_SHARE + DECLINE_SHARE:
            self.complete(checkout, "tok_decline", expect=(402,), name="/checkouts/[id]/complete/ (declined)")
        key = uuid.uuid4().hex
        response = self.complete(checkout, "tok_success", key=key)
        if response.status_code == 201 and roll > 1 - RETRY_SHARE:
            # The client lost the answer and sends the same request again: the same order, replayed.
            again = self.complete(
                checkout, "tok_success", key=key, name="/checkouts/[id]/complete/ (retried)"
            )
            if again.status_code == 201 and again.headers.get("Idempotent-Replayed") != "true":
                events.request.fire(
                    request_type="CHECK",
                    name="replay without Idempotent-Replayed",
                    response_time=0,
                    response_length=0,
                    exception=AssertionError("a retried completion was not a replay"),
                )

    def complete(self, checkout: str, payment: str, *, key: str | None = None, expect=(201,), name=None):
        return self.step(
            "POST",
            f"/checkouts/{checkout}/complete/",
            name=name or "/checkouts/[id]/complete/",
            json={"payment_token": payment},
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
            expect=(*expect, INSUFFICIENT_STOCK),
        )


class Staff(ShopUser):
    """One integration client: price imports, a stock sync and exports while the shop is under load."""

    fixed_count = 1
    wait_time = constant_pacing(float(os.environ.get("LOADTEST_STAFF_PACING", "10")))

    def on_start(self) -> None:
        super().on_start()
        email = os.environ.get("LOADTEST_STAFF_EMAIL", "loadtest-staff@example.com")
        password = os.environ.get("LOADTEST_STAFF_PASSWORD", "")
        response = self.call(
            "POST", "/auth/token/", name="/auth/token/ (staff)", json={"email": email, "password": password}
        )
        self.auth = {"Authorization": f"Bearer {self.json(response).get('token', '')}"}

    def step(self, method: str, path: str, *, name: str, expect=(200,), headers=None, **kwargs):
        headers = {**self.auth, **(headers or {})}
        return self.call(method, path, name=name, expect=expect, headers=headers, **kwargs)

    def poll(self, path: str, *, name: str, tries: int = 20) -> str:
        """Read a job until it is done or failed (a second apart); its last status."""
        status = ""
        for _ in range(tries):
            status = self.json(self.step("GET", path, name=name)).get("status", "")
            if status in ("done", "failed"):
                break
            self._sleep(1)
        return status

    def _sleep(self, seconds: float) -> None:
        import gevent

        gevent.sleep(seconds)

    @task(2)
    def price_import(self) -> None:
        skus = random.sample(CATALOG.skus, min(20, len(CATALOG.skus)))
        rows = "".join(f"{sku},{random.randint(500, 9999) / 100:.2f},{CATALOG.currency}\n" for sku in skus)
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="prices.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\nsku,amount,currency\n{rows}\r\n--{boundary}--\r\n"
        ).encode()
        response = self.step(
            "POST",
            "/integrations/price-imports/",
            name="/integrations/price-imports/",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            expect=(202,),
        )
        job = self.json(response).get("id")
        if job:
            self.poll(f"/integrations/price-imports/{job}/", name="/integrations/price-imports/[id]/")

    @task(2)
    def stock_sync(self) -> None:
        for sku in random.sample(CATALOG.skus, min(10, len(CATALOG.skus))):
            self.step(
                "PUT",
                f"/inventory/stock/{sku}/",
                name="/inventory/stock/[sku]/ PUT",
                json={"warehouse": os.environ.get("LOADTEST_WAREHOUSE", "MAIN"), "on_hand": 100_000},
            )

    @task(1)
    def export(self) -> None:
        response = self.step(
            "POST",
            "/integrations/exports/",
            name="/integrations/exports/",
            json={"format": "csv"},
            expect=(202,),
        )
        job = self.json(response).get("id")
        if job:
            self.poll(f"/integrations/exports/{job}/", name="/integrations/exports/[id]/", tries=60)
