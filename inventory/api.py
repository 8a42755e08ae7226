"""
The inventory's public functions: the only ones other contexts may call.

Stock is known by SKU; callers receive ``inventory.data`` dataclasses, never models. Expired
reservations hold stock for nobody, in every read and every write, whether the clean-up task
(``inventory.release_expired_reservations``, every minute) has run yet or not.

The writes run in the caller's transaction if there is one (``commit`` is meant to run in the
transaction that creates the order). ``reserve``, ``release``, ``commit`` and ``return_order`` join
it without a savepoint (the hot path's SAVEPOINT and RELEASE are two round trips): each raises its
own errors (``InsufficientStock``, ``ReservationExpired``, ``ValueError``) before it writes
anything, so a caller may catch one and go on; a database error inside fails the caller's
transaction. The other writes run in a savepoint of it. The stock rows they lock stay locked until
that transaction ends: keep it short, make no outside call while in it, and make one inventory
write per transaction (each call locks its rows in one fixed order; two calls in one transaction
could lock against another transaction's order).
"""

from collections.abc import Iterable, Mapping, Sequence

from django.core.exceptions import ValidationError

from inventory import selectors, services
from inventory.data import (
    Availability,
    LevelsSet,
    ReservationInfo,
    StockDetail,
    StockLine,
    WarehouseStock,
)
from inventory.errors import BelowReserved as BelowReserved  # the errors other contexts meet
from inventory.errors import InsufficientStock as InsufficientStock
from inventory.errors import NothingReserved as NothingReserved
from inventory.errors import ReservationExpired as ReservationExpired
from inventory.errors import UnknownSku as UnknownSku
from inventory.errors import UnknownWarehouse as UnknownWarehouse
from inventory.models import MAX_QUANTITY, REFERENCE_MAX_LENGTH
from shop.kernel.sku import is_sku
from shop.kernel.text import echo

#: The longest a reservation may be made for (30 days).
MAX_TTL_SECONDS = 30 * 24 * 60 * 60


# --- reads ----------------------------------------------------------------------------------


def get_availability(*, skus: Iterable[str]) -> dict[str, Availability]:
    """
    Return the availability of each of ``skus`` (one query, however many). Unknown SKUs have
    zeros. Expired reservations are not counted, cleaned up or not; ``available`` counts active
    warehouses only.

    Raises:
        TypeError: ``skus`` is a single string.
    """
    if isinstance(skus, str):
        raise TypeError("skus must be an iterable of SKUs, not one string.")
    skus = list(dict.fromkeys(skus))
    totals = {sku: [0, 0, 0] for sku in skus}
    for row in selectors.stock_rows(skus):
        total = totals[row.sku]
        total[0] += row.on_hand
        total[1] += row.reserved
        total[2] += row.available
    return {
        sku: Availability(sku=sku, on_hand=on_hand, reserved=reserved, available=available)
        for sku, (on_hand, reserved, available) in totals.items()
    }


def get_stock(*, sku: str) -> StockDetail:
    """
    Return the stock of ``sku`` in total and per warehouse (priority order); an unknown SKU has
    zeros and no warehouses. One query. Raises nothing.
    """
    rows = selectors.stock_rows([sku])
    return StockDetail(
        sku=sku,
        on_hand=sum(row.on_hand for row in rows),
        reserved=sum(row.reserved for row in rows),
        available=sum(row.available for row in rows),
        warehouses=tuple(
            WarehouseStock(code=row.warehouse_code, on_hand=row.on_hand, reserved=row.reserved)
            for row in rows
        ),
    )


def is_known_sku(*, sku: str) -> bool:
    """
    Return True for a SKU the shop knows: registered by the catalog (``register_skus``) or held
    in some warehouse (a stock row, even at zero). One query. Raises nothing.
    """
    return selectors.sku_is_known(sku)


def register_skus(*, skus: Iterable[str]) -> None:
    """
    Record ``skus`` as SKUs of the shop, so that staff can give them their first stock; the
    catalog calls it when it creates variants. Idempotent; runs in the caller's transaction.

    Raises:
        ValueError: a malformed SKU.
    """
    skus = list(skus)
    for sku in skus:
        _check_sku(sku)
    services.skus_register(skus=skus)


# --- reservations ---------------------------------------------------------------------------


def reserve(*, reference: str, lines: Sequence[StockLine], ttl_seconds: int) -> ReservationInfo:
    """
    Reserve ``lines`` for ``ttl_seconds`` under ``reference`` (e.g. a checkout id), all or
    nothing; quantities of the same SKU are added up. Stock is taken from active warehouses in
    priority order, a line split across warehouses if need be. A reservation already made under
    ``reference`` is replaced: its stock is released and the new lines reserved in the same
    transaction (if they cannot be, the old reservation stays as it was).

    Raises:
        InsufficientStock: some SKUs are short; ``shortages`` names every one of them.
        ValueError: no lines, a malformed SKU or reference, a quantity that is not a positive
            integer, ``ttl_seconds`` not an integer in 1..30 days.
    """
    _check_reference(reference)
    _check_positive(ttl_seconds, "ttl_seconds")
    if ttl_seconds > MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be at most {MAX_TTL_SECONDS}.")
    if not lines:
        raise ValueError("Nothing to reserve.")
    demand: dict[str, int] = {}
    for line in lines:
        _check_sku(line.sku)
        _check_positive(line.quantity, f"quantity of {line.sku}")
        demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    reservation = services.reservation_make(reference=reference, demand=demand, ttl_seconds=ttl_seconds)
    return ReservationInfo(
        id=reservation.id,
        reference=reservation.reference,
        expires_at=reservation.expires_at,
        lines=tuple(StockLine(sku=sku, quantity=demand[sku]) for sku in sorted(demand)),
    )


def release(*, reference: str) -> None:
    """
    Release the reservation made under ``reference``. Idempotent: an unknown, released or
    committed reference is fine.

    Raises:
        ValueError: ``reference`` is empty or too long.
    """
    _check_reference(reference)
    services.reservation_release(reference=reference)


def commit(*, reference: str, order_number: str) -> None:
    """
    Allocate the stock reserved under ``reference`` to ``order_number``: it leaves on hand and
    reserved (ledger ``allocation``, reference the order number) and the reservation is deleted.
    If the reservation expired or is gone, the same quantities are taken again at once from the
    stock available now. Committing an order number that was already committed does nothing.
    Joins the caller's transaction (checkout's, which creates the order), without a savepoint.

    Raises:
        ReservationExpired: the reservation expired or is gone and its stock can no longer be
            had (``shortages``), or (``NothingReserved``, empty ``shortages``) nothing was ever
            reserved under ``reference``.
        ValueError: ``reference`` or ``order_number`` is empty or too long.
    """
    _check_reference(reference)
    _check_reference(order_number, "order_number")
    services.reservation_commit(reference=reference, order_number=order_number)


def return_order(*, order_number: str) -> None:
    """
    Put the stock allocated to ``order_number`` back on hand in the warehouses it came from
    (ledger ``return``), e.g. when the order is canceled. Idempotent: a second call, or an
    order with no allocation, does nothing.

    Raises:
        ValueError: ``order_number`` is empty or too long.
    """
    _check_reference(order_number, "order_number")
    services.order_return(order_number=order_number)


def release_expired(*, limit: int = 1000) -> int:
    """
    Delete expired reservations, oldest first, releasing their stock (ledger ``release``);
    return how many were deleted. ``limit`` bounds how many are picked; other expired
    reservations with lines on the stock rows this locks are released along with them.
    Idempotent. Reads ignore expired reservations anyway: this tidies up and lets the catalog
    know (``StockChanged``).

    Raises:
        ValueError: ``limit`` is not a positive integer.
    """
    _check_positive(limit, "limit")
    return services.reservations_release_expired(limit=limit)


# --- on hand ----------------------------------------------------------------------------------


def set_on_hand(*, sku: str, warehouse: str, on_hand: int, reason: str = "adjustment") -> StockDetail:
    """
    Set what ``warehouse`` (a code) has of ``sku``, e.g. after a stock count; the ledger row is
    a ``receipt`` for an increase with ``reason`` "receipt", else an ``adjustment``, its
    reference ``reason``. Returns the SKU's stock.

    Raises:
        UnknownWarehouse: no warehouse has the code ``warehouse``.
        BelowReserved (a ValueError): ``on_hand`` is below what is reserved there.
        ValueError: a malformed SKU, ``on_hand`` not an integer in 0..2**63-1, an empty reason.
    """
    _check_quantity(on_hand, "on_hand")
    return _change_on_hand(sku=sku, warehouse=warehouse, on_hand=on_hand, reason=reason)


def set_on_hand_many(*, levels: Sequence[tuple[str, str, int]], reason: str = "adjustment") -> LevelsSet:
    """
    Set what warehouses have of many SKUs in one short transaction (a stock feed): ``levels``
    holds ``(sku, warehouse code, on_hand)``. Each row is checked and applied on its own terms,
    as ``set_on_hand`` would (the same ledger rows and ``StockChanged``), with a few bulk
    statements for the whole batch; a row that cannot be applied is reported in ``rejected``
    by its index (a malformed SKU, ``on_hand`` not an integer in 0..2**63-1, an unknown
    warehouse, below what is reserved there, the same SKU and warehouse as an earlier row) and
    the others are applied. Keep batches to a few thousand rows: their stock rows stay locked
    until the caller's transaction ends.

    Raises:
        ValueError: an empty ``reason``.
    """
    _check_reference(reason, "reason")
    rejected: dict[int, str] = {}
    accepted: dict[int, tuple[str, str, int]] = {}
    seen: set[tuple[str, str]] = set()
    for index, level in enumerate(levels):
        if not isinstance(level, (tuple, list)) or len(level) != 3 or not isinstance(level[1], str):
            rejected[index] = f"Not (sku, warehouse code, on_hand): {echo(level)}."
            continue
        sku, warehouse, on_hand = level
        try:
            _check_sku(sku)
            _check_quantity(on_hand, "on_hand")
        except ValueError as exc:
            rejected[index] = str(exc)
            continue
        if (sku, warehouse) in seen:
            rejected[index] = f"{sku} in {warehouse} appears more than once; only the first is applied."
            continue
        seen.add((sku, warehouse))
        accepted[index] = (sku, warehouse, on_hand)
    changed = refused = 0
    if accepted:
        indexes = list(accepted)
        changed, not_applied = services.stock_set_on_hand_many(levels=list(accepted.values()), reason=reason)
        rejected.update({indexes[position]: message for position, message in not_applied.items()})
        refused = len(not_applied)
    return LevelsSet(
        changed=changed, unchanged=len(accepted) - refused - changed, rejected=dict(sorted(rejected.items()))
    )


def adjust_on_hand(*, sku: str, warehouse: str, delta: int, reason: str = "adjustment") -> StockDetail:
    """
    Add ``delta`` (negative: remove) to what ``warehouse`` has of ``sku``; the ledger row is a
    ``receipt`` for an increase with ``reason`` "receipt", else an ``adjustment``. Returns the
    SKU's stock.

    Raises:
        UnknownWarehouse: no warehouse has the code ``warehouse``.
        BelowReserved (a ValueError): on hand would go below what is reserved there.
        ValueError: a malformed SKU, ``delta`` not an integer, on hand beyond 2**63-1, an empty
            reason.
    """
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise ValueError(f"delta must be an integer, not {delta!r}.")
    return _change_on_hand(sku=sku, warehouse=warehouse, delta=delta, reason=reason)


def _change_on_hand(*, sku: str, warehouse: str, reason: str, **change: int) -> StockDetail:
    _check_sku(sku)
    _check_reference(reason, "reason")
    services.stock_set_on_hand(sku=sku, warehouse_code=warehouse, reason=reason, **change)
    return get_stock(sku=sku)


def receive_initial_stock(
    *, warehouse: str, quantities: Mapping[str, int], reason: str = "receipt", announce: bool = True
) -> int:
    """
    Receive many SKUs into ``warehouse`` at once, for SKUs it does not hold yet (a demo catalog,
    an opening stock count); returns how many stock rows were created. Idempotent.
    ``announce=False`` publishes no ``StockChanged``: only for a caller that sets the storefront's
    flags itself in the same run (the demo seed), so that thousands of events do not queue up.

    Raises:
        UnknownWarehouse: no warehouse has the code ``warehouse``.
        ValueError: a malformed SKU or a quantity not an integer in 0..2**63-1.
    """
    for sku, quantity in quantities.items():
        _check_sku(sku)
        _check_quantity(quantity, f"quantity of {sku}")
    _check_reference(reason, "reason")
    return services.stock_receive_initial(
        warehouse_code=warehouse, quantities=quantities, reason=reason, announce=announce
    )


def ensure_warehouse(*, code: str, name: str, priority: int = 0) -> None:
    """
    Make sure the warehouse ``code`` exists with ``name`` and ``priority`` (lower is used
    first); for demo data and tests.

    Raises:
        ValueError: ``code`` is not a slug of up to 32 characters, or ``name`` is empty.
    """
    try:
        services.warehouse_ensure(code=code, name=name, priority=priority)
    except ValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from exc


# --- validation -------------------------------------------------------------------------------


def _check_sku(sku: object) -> None:
    if not is_sku(sku):
        raise ValueError(f"Not a SKU: {echo(sku)}.")


def _check_reference(value: object, name: str = "reference") -> None:
    if not isinstance(value, str) or not value or len(value) > REFERENCE_MAX_LENGTH:
        raise ValueError(f"{name} must be a string of 1 to {REFERENCE_MAX_LENGTH} characters.")


def _check_quantity(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ValueError(f"{name} must be an integer in 0..{MAX_QUANTITY}, not {echo(value)}.")


def _check_positive(value: object, name: str) -> None:
    _check_quantity(value, name)
    if value == 0:
        raise ValueError(f"{name} must be positive.")
