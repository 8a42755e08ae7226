"""
The benchmark's look into the shop's database, run in the shop's environment (the stack's
settings), never while measuring (``topup`` also releases expired reservations, as beat's sweep
would):

    python -m benchmarks.http.shop_data state
    python -m benchmarks.http.shop_data pools --skus 2000 --details 2000 --out DIR
    python -m benchmarks.http.shop_data topup --skus-file DIR/skus.txt --level 100000 --below 50000
    python -m benchmarks.http.shop_data check [--since 2026-12-08T01:52:38+00:00]

Each prints one JSON object. Stock is changed only through ``inventory.api.set_on_hand_many`` (the
ledger rows and ``StockChanged`` events a stock feed writes), so the shop stays consistent.
"""

import argparse
import datetime
import json
import os
import random
import sys
from pathlib import Path

WAREHOUSE = "MAIN"  # seed_demo's warehouse


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.base")  # as manage.py
    import django

    django.setup()


def _rows(sql: str, params: tuple = ()) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def state() -> dict:
    """How many products and stock rows the database has (whether a seed can be reused)."""
    products = _rows("SELECT count(*) FROM catalog_product")[0][0]
    skus = _rows("SELECT count(*) FROM inventory_stocklevel")[0][0]
    return {"products": products, "stock_rows": skus}


def pools(*, skus: int, details: int, out: Path, currency: str, seed: int = 1) -> dict:
    """
    Write ``skus.txt`` (``skus`` sellable SKUs: active variant of an active product, a price in
    the shop's currency, stock in the warehouse) and ``slugs.txt`` (``details`` slugs of active
    products), each a random sample fixed by ``seed``.
    """
    sellable = [
        row[0]
        for row in _rows(
            """
            SELECT v.sku FROM catalog_variant v
            JOIN catalog_product p ON p.id = v.product_id
            JOIN inventory_stocklevel s ON s.sku = v.sku
            JOIN inventory_warehouse w ON w.id = s.warehouse_id AND w.code = %s
            WHERE v.is_active AND p.is_active
              AND EXISTS (SELECT 1 FROM catalog_price c WHERE c.variant_id = v.id AND c.currency = %s)
            ORDER BY v.id
            """,
            (WAREHOUSE, currency),
        )
    ]
    slugs = [row[0] for row in _rows("SELECT slug FROM catalog_product WHERE is_active ORDER BY id")]
    rng = random.Random(seed)  # noqa: S311 - a sample, not a secret
    chosen_skus = rng.sample(sellable, min(skus, len(sellable)))
    chosen_slugs = rng.sample(slugs, min(details, len(slugs)))
    out.mkdir(parents=True, exist_ok=True)
    (out / "skus.txt").write_text("\n".join(chosen_skus) + "\n", encoding="utf-8")
    (out / "slugs.txt").write_text("\n".join(chosen_slugs) + "\n", encoding="utf-8")
    return {"skus": len(chosen_skus), "slugs": len(chosen_slugs), "sellable": len(sellable)}


def release_expired() -> int:
    """
    Release every expired reservation, as beat's ``inventory-release-expired`` does every minute in
    a deployment (the benchmark's stack runs no beat): the checkouts a run prepared and did not
    complete expire between runs, and without the sweep each later operation on their stock rows
    would release them in its own transaction. Returns how many were released.
    """
    from inventory import api as inventory_api

    released = batch = inventory_api.release_expired(limit=1000)
    while batch >= 1000:
        batch = inventory_api.release_expired(limit=1000)
        released += batch
    return released


def topup(*, skus_file: Path, level: int, below: int) -> dict:
    """
    Release expired reservations (``release_expired``), then give every SKU of ``skus_file`` whose
    free stock (on hand minus reserved) is under ``below`` ``level`` free units again, through
    inventory's api.
    """
    from inventory import api as inventory_api

    released = release_expired()
    skus = [line for line in skus_file.read_text(encoding="utf-8").split() if line]
    low = _rows(
        """
        SELECT s.sku, s.reserved FROM inventory_stocklevel s
        JOIN inventory_warehouse w ON w.id = s.warehouse_id AND w.code = %s
        WHERE s.sku = ANY(%s) AND s.on_hand - s.reserved < %s
        """,
        (WAREHOUSE, skus, below),
    )
    changed = 0
    for start in range(0, len(low), 1000):
        chunk = low[start : start + 1000]
        result = inventory_api.set_on_hand_many(
            levels=[(sku, WAREHOUSE, level + reserved) for sku, reserved in chunk], reason="benchmark top-up"
        )
        if result.rejected:
            raise SystemExit(f"top-up rejected: {dict(list(result.rejected.items())[:3])}")
        changed += result.changed
    free = _rows(
        """
        SELECT coalesce(min(s.on_hand - s.reserved), 0) FROM inventory_stocklevel s
        JOIN inventory_warehouse w ON w.id = s.warehouse_id AND w.code = %s WHERE s.sku = ANY(%s)
        """,
        (WAREHOUSE, skus),
    )[0][0]
    return {"topped_up": changed, "pool": len(skus), "min_free": free, "expired_released": released}


def check(since: datetime.datetime | None = None) -> dict:
    """
    Oversold stock rows (on hand below 0, reserved below 0 or above on hand: none may exist) and
    rows whose level differs from the sum of its ledger (movements), orders and ERP hand-overs.
    The stock queries are the load test's invariants (``loadtest.invariants``), one definition.
    With ``since`` (the run's start): the orders placed from then on, and how many of them have
    not been delivered to the ERP (every one must be; the database may hold older orders whose
    events an earlier, interrupted run or an in-process measurement left behind).
    """
    from django.db import connection

    from loadtest.invariants import django_query, ledger_mismatch_rows, oversold_rows

    query = django_query(connection)
    orders = _rows("SELECT count(*) FROM checkout_order")[0][0]
    handovers = dict(_rows("SELECT status, count(*) FROM integrations_erphandover GROUP BY status"))
    result = {
        "oversold_skus": len(oversold_rows(query)),
        "ledger_mismatches": len(ledger_mismatch_rows(query)),
        "orders": orders,
        "erp_handovers": handovers,
    }
    if since is not None:
        placed, undelivered = _rows(
            """
            SELECT count(*), coalesce(sum(CASE WHEN h.status = 'delivered' THEN 0 ELSE 1 END), 0)
            FROM checkout_order o LEFT JOIN integrations_erphandover h ON h.order_number = o.number
            WHERE o.created_at >= %s
            """,
            (since,),
        )[0]
        result.update(orders_placed=placed, orders_undelivered=undelivered)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("state")
    p = sub.add_parser("pools")
    p.add_argument("--skus", type=int, default=2000)
    p.add_argument("--details", type=int, default=2000)
    p.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("topup")
    t.add_argument("--skus-file", type=Path, required=True)
    t.add_argument("--level", type=int, default=100_000)
    t.add_argument("--below", type=int, default=50_000)
    c = sub.add_parser("check")
    c.add_argument("--since", type=datetime.datetime.fromisoformat, help="the run's start (ISO 8601)")
    args = parser.parse_args(argv)
    _setup()
    if args.command == "state":
        result = state()
    elif args.command == "pools":
        from django.conf import settings

        result = pools(skus=args.skus, details=args.details, out=args.out, currency=settings.SHOP_CURRENCY)
    elif args.command == "topup":
        result = topup(skus_file=args.skus_file, level=args.level, below=args.below)
    else:
        result = check(since=args.since)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
