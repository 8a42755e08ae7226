"""
The catalog's public functions: the only ones other contexts may call.

Other contexts know variants by SKU; they receive ``catalog.data`` dataclasses, never models.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError

from catalog import bulk, selectors, services
from catalog.data import (
    FeedRow,
    PriceResult,
    ProductProblems,
    ProductRow,
    Quote,
    QuotedLine,
    UpsertResult,
    VariantInfo,
)
from catalog.errors import NotForSale, UnknownSku  # the errors other contexts meet
from shop.kernel.money import PRICE_MAX_WHOLE_DIGITS, Money, exact_amount, is_currency_code, minor_units
from shop.kernel.text import echo


def get_variants(*, skus: Iterable[str], currency: str | None = None) -> dict[str, VariantInfo]:
    """
    Return the variants of ``skus`` that exist, by SKU, with their price in ``currency``
    (default: the shop currency). Unknown SKUs are absent from the result. One query.
    """
    currency = currency or settings.SHOP_CURRENCY
    rows = selectors.variants_by_sku(list(dict.fromkeys(skus)), currency)
    return {
        row["sku"]: VariantInfo(
            sku=row["sku"],
            name=row["name"],
            product_slug=row["product_slug"],
            product_name=row["product_name"],
            is_sellable=bool(row["is_active"] and row["product_active"] and row["amount"] is not None),
            price=None if row["amount"] is None else Money(row["amount"], currency),
        )
        for row in rows
    }


def require_sellable(*, sku: str) -> VariantInfo:
    """
    Return the variant of ``sku`` if the catalog sells it (in the shop currency). One query.

    Raises:
        UnknownSku: no variant has ``sku``.
        NotForSale: the variant or its product is inactive, or it has no price.
    """
    variant = get_variants(skus=[sku]).get(sku)
    if variant is None:
        raise UnknownSku(sku)
    if not variant.is_sellable:
        raise NotForSale(sku)
    return variant


def quote(*, lines: Iterable[tuple[str, int]], currency: str | None = None) -> Quote:
    """
    Price ``lines`` of ``(sku, quantity)`` at the catalog's current prices in ``currency``
    (default: the shop currency): the one pricing rule of carts and checkouts. One query (that
    of ``get_variants``), whatever the number of lines.

    A line is sellable when its variant and product are active and the variant has a price in
    ``currency``; its total is the unit price times the quantity, and the subtotal sums the
    sellable lines only (``Money`` rounds to the currency's minor units). Discounts and taxes
    are not the catalog's: checkout adds them to the quote (``checkout/pricing.py``). Quantities
    are the caller's to check (carts and checkouts hold 1..100).
    """
    currency = currency or settings.SHOP_CURRENCY
    lines = list(lines)
    variants = get_variants(skus=[sku for sku, _ in lines], currency=currency)
    subtotal = Money(0, currency)
    quoted = []
    for sku, quantity in lines:
        variant = variants.get(sku)
        if variant is None or not variant.is_sellable or variant.price is None:
            quoted.append(
                QuotedLine(
                    sku=sku,
                    quantity=quantity,
                    name=sku if variant is None else variant.display_name,
                    product_slug=None if variant is None else variant.product_slug,
                    sellable=False,
                    unit_price=None,
                    line_total=None,
                )
            )
            continue
        line_total = variant.price * quantity
        subtotal += line_total
        quoted.append(
            QuotedLine(
                sku=sku,
                quantity=quantity,
                name=variant.display_name,
                product_slug=variant.product_slug,
                sellable=True,
                unit_price=variant.price,
                line_total=line_total,
            )
        )
    return Quote(currency=currency, lines=tuple(quoted), subtotal=subtotal)


def set_price(*, sku: str, amount: Decimal | str, currency: str) -> Money:
    """
    Set the price of ``sku`` in ``currency``; publishes ``PriceChanged`` if it changed.

    Raises:
        UnknownSku: no variant has ``sku``.
        ValueError: ``amount`` or ``currency`` breaks ``parse_price``'s rules (an amount with
            more decimal places than the currency has is refused, not rounded).
    """
    amount = parse_price(amount=amount, currency=currency)
    variant = selectors.variant_by_sku(sku)
    if variant is None:
        raise UnknownSku(sku)
    try:
        price = services.price_set(variant=variant, currency=currency, amount=amount)
    except ValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from exc
    return Money(price.amount, price.currency)


def iter_feed_chunks(*, currency: str | None = None, chunk_size: int = 2000) -> Iterator[list[FeedRow]]:
    """
    Yield every sellable variant (active, of an active product, priced in ``currency``, default
    the shop currency) in chunks of up to ``chunk_size``, by variant id: keyset pages, one query
    each, so the catalog is never held in memory. For a consistent snapshot across chunks, run
    the iteration in one REPEATABLE READ transaction (as the exports do).

    Raises:
        ValueError: ``chunk_size`` is not a positive integer or ``currency`` not an ISO code.
    """
    currency = currency or settings.SHOP_CURRENCY
    if not is_currency_code(currency):
        raise ValueError(f"Not an ISO 4217 currency code: {currency!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, not {chunk_size!r}.")
    quantum = Decimal(1).scaleb(-minor_units(currency))
    after_id = 0
    while True:
        rows = selectors.sellable_variants_after(after_id, currency, chunk_size)
        if not rows:
            return
        yield [
            FeedRow(
                sku=row["sku"],
                name=row["name"],
                product_slug=row["product_slug"],
                product_name=row["product_name"],
                amount=row["amount"].quantize(quantum),  # exact: no price has more places
                currency=currency,
                in_stock=row["in_stock"],
            )
            for row in rows
        ]
        if len(rows) < chunk_size:
            return
        after_id = rows[-1]["variant_key"]


_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_price(*, amount: Decimal | str, currency: str) -> Decimal:
    """
    Return ``amount`` as the Decimal a price in ``currency`` is stored as, or say why it cannot
    be one: the rules ``set_prices`` applies, for callers that report row by row (imports).

    Raises:
        ValueError: ``currency`` is not an ISO 4217 currency code, or ``amount`` is not a plain
            decimal number, is negative, has more decimal places than the currency's minor units
            (never rounded) or more than 10 digits before the point; the message says which, for
            a person.
    """
    if not is_currency_code(currency):
        raise ValueError(f"Currency {echo(currency)} is not an ISO 4217 currency code (e.g. EUR).")
    value = None
    if not isinstance(amount, str) or _PLAIN_DECIMAL.fullmatch(amount.strip()):
        try:
            value = Decimal(amount.strip() if isinstance(amount, str) else amount)
        except (InvalidOperation, TypeError, ValueError):
            value = None
    if value is None or not value.is_finite():
        raise ValueError(f"Amount {echo(amount)} is not a decimal number.")
    if value < 0:
        raise ValueError(f"Amount {echo(amount)} is negative.")
    if value.adjusted() >= PRICE_MAX_WHOLE_DIGITS:
        raise ValueError(
            f"Amount {echo(amount)} is too large (at most {PRICE_MAX_WHOLE_DIGITS} digits before the point)."
        )
    try:
        return exact_amount(value, currency)
    except ValueError:
        places = minor_units(currency)
        raise ValueError(
            f"Amount {echo(amount)} has more than {places} decimal places for {currency} "
            "(ISO 4217 minor units); it is not rounded."
        ) from None


def set_prices(*, rows: Sequence[tuple[str, Decimal | str, str]]) -> PriceResult:
    """
    Set the prices ``rows`` of ``(sku, amount, currency)`` in one short transaction with bulk
    statements (one SELECT of the SKUs, one locking SELECT of the prices, one upsert, one outbox
    INSERT, one UPDATE of ``price_from``), for imports: call it per chunk (a few thousand rows),
    so that no lock is held long. A ``PriceChanged`` is published for every new or different
    price; unchanged prices are left alone; unknown SKUs are skipped and reported. The cached
    product details are dropped on commit. Each SKU's price changes atomically: a reader sees
    the old or the new one.

    Raises:
        ValueError: a row's amount or currency breaks ``parse_price``'s rules, or two rows name
            the same SKU and currency (nothing is written then).
    """
    prices: list[tuple[str, Decimal, str]] = []
    seen: set[tuple[str, str]] = set()
    for sku, amount, currency in rows:
        if (sku, currency) in seen:
            raise ValueError(f"{sku} {currency} is given twice.")
        seen.add((sku, currency))
        prices.append((sku, parse_price(amount=amount, currency=currency), currency))
    changed, unchanged, unknown = bulk.prices_set_many(prices=prices)
    return PriceResult(changed=changed, unchanged=unchanged, unknown_skus=frozenset(unknown))


def check_products(*, rows: Sequence[ProductRow]) -> list[ProductProblems]:
    """
    Say, row by row (in order), what ``upsert_products`` would refuse, so that an import
    reports bad rows and applies the others: three queries whatever the number of rows.
    ``ProductProblems.product`` refuses the whole row (a malformed slug, an empty name, an
    unknown category or attribute code, a value of the wrong type for the attribute's kind, a
    slug given twice); ``ProductProblems.skus`` refuses only those variants (a malformed SKU, one
    given twice, one belonging to another product, an empty name, an ``is_active`` not a bool).
    An empty ``ProductProblems`` is false.
    """
    return bulk.products_check(rows=rows)


def upsert_products(*, rows: Sequence[ProductRow]) -> UpsertResult:
    """
    Create or update ``rows`` in one transaction, for imports: call it per chunk (a few thousand
    variants). Products are found by slug and variants by SKU (created if new, else their
    changed name or ``is_active`` written); attribute values are set in the column of the
    attribute's kind; variants and attributes not named are left alone, nothing is deleted. The
    read models of the products that changed are refreshed as a single variant's change
    refreshes them (``price_from`` and ``in_stock`` from their active variants only,
    ``sku_text``, the search vector), so a variant given ``is_active=False`` leaves them; a
    ``ProductChanged`` is published for each (one INSERT) and their cached details are dropped
    on commit; unchanged products publish nothing.

    Raises:
        ValueError: ``check_products`` finds a problem in a row (nothing is written then); the
            message names the row's product slug.
    """
    for row, problems in zip(rows, bulk.products_check(rows=rows), strict=True):
        if problems:
            raise ValueError(
                f"Product {row.slug!r}: " + " ".join([*problems.product, *problems.skus.values()])
            )
    return bulk.products_upsert(rows=rows)
