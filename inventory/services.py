"""
The inventory's writes. Every change of a stock row passes through ``_LockedStock``, which keeps
the rules that make concurrent checkouts neither oversell nor deadlock:

1. An operation on a reservation first takes a transaction-level advisory lock on its reference
   (PostgreSQL; SQLite runs one writer at a time anyway), so that two calls for the same
   reference run one after the other.
2. It then locks every stock row of the SKUs it touches, all of them with one
   ``SELECT ... FOR NO KEY UPDATE ... ORDER BY sku, warehouse_id``. Everyone locks in that
   order, so concurrent operations queue instead of deadlocking, and the counters of a locked
   row cannot change under its holder.
3. The lock of a stock row also guards the reservation lines on it: lines are counted, created
   and deleted only under it. An operation first reclaims the expired lines on its rows, so
   that expired stock counts for nobody, then does its work.
4. Reservations are deleted last: by their owner (under rule 1), or, once expired and empty, by
   whoever reclaimed their last lines, and then with ``SKIP LOCKED`` so that nobody waits for a
   reservation while holding stock rows.

Each operation writes its stock rows with one UPDATE, its reservation lines, ledger rows and
events (``StockChanged`` per SKU whose availability changed, ``publish_many``) with one INSERT
each, whatever the number of lines.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from inventory import metrics, selectors
from inventory.data import Shortage
from inventory.errors import (
    BelowReserved,
    InsufficientStock,
    NothingReserved,
    ReservationExpired,
    UnknownWarehouse,
)
from inventory.events import StockChanged
from inventory.models import (
    MAX_QUANTITY,
    KnownSku,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    Warehouse,
)
from shop.kernel.db import (
    Outcome,
    Statement,
    as_datetime,
    as_datetime_parameter,
    as_uuid,
    as_uuid_parameter,
    bound_cursor,
    fetch,
    insert_statements,
    joined_transaction,
    placeholders,
    run_together,
    update_statements,
)
from shop.kernel.events import publish_many
from shop.kernel.text import echo

Kind = StockMovement.Kind

#: The first key of the advisory locks taken on reservation references ("inventory", as digits).
_ADVISORY_LOCK_NAMESPACE = 1_060_220


def _reference_lock(reference: str) -> list[Statement]:
    """
    The statement that serialises the operations on one reservation reference until the
    transaction ends (none on SQLite): sent with the operation's first reads, ahead of them.
    """
    if connection.vendor != "postgresql":
        return []
    return [
        Statement("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_ADVISORY_LOCK_NAMESPACE, reference])
    ]


@dataclass
class _Row:
    """A locked stock row, with what the operations need of its warehouse."""

    id: int
    sku: str
    warehouse_id: int
    on_hand: int
    reserved: int
    warehouse_code: str
    warehouse_active: bool
    warehouse_priority: int


@dataclass
class _Line:
    id: int
    sku: str
    warehouse_id: int
    quantity: int
    reservation_id: uuid.UUID
    reference: str
    expired: bool
    done: bool = False


# The tables, for the SQL of the hot statements below (every value in them is a parameter).
_STOCK = StockLevel._meta.db_table
_WAREHOUSE = Warehouse._meta.db_table
_RESERVATION = Reservation._meta.db_table
_LINE = ReservationLine._meta.db_table
_MOVEMENT = StockMovement._meta.db_table
_MOVEMENT_COLUMNS = (
    "kind", "sku", "warehouse_id", "reference", "reservation_id",
    "on_hand_delta", "reserved_delta", "created_at",
)  # fmt: skip


def _lock_rows(skus: list[str]) -> list[_Row]:
    """
    Lock the stock rows of ``skus`` (every warehouse) in the fixed order and read them. Written
    in SQL, as are the other statements of ``_LockedStock``: every checkout and completion runs
    them, and building them with the ORM cost more than running them.
    """
    lock = " FOR NO KEY UPDATE OF s" if connection.vendor == "postgresql" else ""
    rows = fetch(
        f"""
        SELECT s.id, s.sku, s.warehouse_id, s.on_hand, s.reserved, w.code, w.is_active, w.priority
        FROM {_STOCK} s JOIN {_WAREHOUSE} w ON w.id = s.warehouse_id
        WHERE s.sku IN ({placeholders(len(skus))})
        ORDER BY s.sku, s.warehouse_id{lock}
        """,  # noqa: S608 - the models' tables; every value is a parameter
        skus,
    )
    return [
        _Row(row_id, sku, warehouse_id, on_hand, reserved, code, bool(active), priority)
        for row_id, sku, warehouse_id, on_hand, reserved, code, active, priority in rows
    ]


def _lines_on(skus: list[str], now: datetime, reservation_ids: list[uuid.UUID]) -> list[_Line]:
    """The reservation lines on the stock rows of ``skus`` that have expired or are of ``reservation_ids``."""
    now_parameter = as_datetime_parameter(now)
    mine = ""
    if reservation_ids:
        mine = f" OR line.reservation_id IN ({placeholders(len(reservation_ids))})"
    rows = fetch(
        f"""
        SELECT line.id, line.sku, line.warehouse_id, line.quantity, line.reservation_id, r.reference,
               r.expires_at <= %s
        FROM {_LINE} line JOIN {_RESERVATION} r ON r.id = line.reservation_id
        WHERE line.sku IN ({placeholders(len(skus))}) AND (r.expires_at <= %s{mine})
        """,  # noqa: S608 - the models' tables; every value is a parameter
        [now_parameter, *skus, now_parameter, *(as_uuid_parameter(pk) for pk in reservation_ids)],
    )
    return [
        _Line(line_id, sku, warehouse_id, quantity, as_uuid(reservation_id), reference, bool(expired))
        for line_id, sku, warehouse_id, quantity, reservation_id, reference, expired in rows
    ]


#: Up to this many stock rows are written with the operation's other writes, in one round trip;
#: more (a stock feed's chunk) in a statement of their own whose values are bound on the server.
_ROWS_SENT_TOGETHER = 100


def _row_updates(rows: list[_Row]) -> list[Statement]:
    """
    The statements that write the counters of ``rows``: one UPDATE, however many rows. On
    PostgreSQL the values travel as three arrays; past ``_ROWS_SENT_TOGETHER`` rows they are bound
    on the server right away (a stock feed's chunk changes a thousand rows, whose values Django's
    client-side binding would quote one by one) and no statement is left. Elsewhere a ``VALUES`` list.
    """
    if connection.vendor != "postgresql":
        return update_statements(
            _STOCK, ("on_hand", "reserved"), [(row.id, row.on_hand, row.reserved) for row in rows]
        )
    update = Statement(
        f"UPDATE {_STOCK} AS t SET on_hand = v.on_hand, reserved = v.reserved "  # noqa: S608 - as above
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, on_hand, reserved) "
        "WHERE t.id = v.id",
        [[row.id for row in rows], [row.on_hand for row in rows], [row.reserved for row in rows]],
    )
    if len(rows) <= _ROWS_SENT_TOGETHER:
        return [update]
    with bound_cursor() as cursor:
        cursor.execute(*update)
    return []


def _deleted_by(outcomes: list[Outcome], dropped_at: int | None) -> int:
    """The row count of the write at ``dropped_at`` (the reservations it deleted), else 0."""
    return outcomes[dropped_at].rowcount if dropped_at is not None else 0


class _LockedStock:
    """
    The stock rows of some SKUs (every warehouse), locked in the fixed order for the rest of the
    transaction, with the reservation lines on them that have expired or belong to
    ``reservation_ids``; and the changes an operation makes to them, written by ``save()``.
    """

    def __init__(self, skus: Iterable[str], *, reservation_ids: Iterable[uuid.UUID] = ()):
        self.skus = sorted(set(skus))
        levels = _lock_rows(self.skus) if self.skus else []
        # Taken after the locks: a line that someone reclaimed before we had them has expired for
        # us too, so what we see on the rows is consistent.
        self.now = timezone.now()
        self.rows: dict[tuple[str, int], _Row] = {(row.sku, row.warehouse_id): row for row in levels}
        self._initial = {key: (row.on_hand, row.reserved) for key, row in self.rows.items()}
        self._expired_on_row: dict[tuple[str, int], int] = defaultdict(int)
        self.lines: list[_Line] = _lines_on(self.skus, self.now, list(reservation_ids)) if self.skus else []
        for line in self.lines:
            if line.expired:
                self._expired_on_row[(line.sku, line.warehouse_id)] += line.quantity
        self._movements: dict[tuple, list[int]] = {}
        self._deleted_lines: list[int] = []
        self._reclaimed: set[uuid.UUID] = set()
        self._dropped: set[uuid.UUID] = set()
        self.new_reservation: Reservation | None = None
        self._new_lines: list[tuple[str, int, int]] = []  # (sku, warehouse id, quantity)
        self._reclaim_expired()

    # --- changes ---------------------------------------------------------------------------

    def _move(self, kind: str, row: _Row, *, reference: str, on_hand=0, reserved=0, reservation_id=None):
        row.on_hand += on_hand
        row.reserved += reserved
        deltas = self._movements.setdefault(
            (kind, row.sku, row.warehouse_id, reference, reservation_id), [0, 0]
        )
        deltas[0] += on_hand
        deltas[1] += reserved

    def _release(self, line: _Line) -> None:
        row = self.rows[(line.sku, line.warehouse_id)]
        self._move(
            Kind.RELEASE,
            row,
            reserved=-line.quantity,
            reference=line.reference,
            reservation_id=line.reservation_id,
        )
        line.done = True
        self._deleted_lines.append(line.id)

    def _reclaim_expired(self) -> None:
        """Release every expired reservation line on the locked rows: they hold stock for nobody."""
        for line in self.lines:
            if line.expired and not line.done:
                self._release(line)
                self._reclaimed.add(line.reservation_id)

    def is_held(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at > self.now

    def release_reservation(self, reservation_id: uuid.UUID) -> None:
        """Release the reservation's lines and delete it."""
        for line in self.lines:
            if line.reservation_id == reservation_id and not line.done:
                self._release(line)
        self._dropped.add(reservation_id)

    def allocate_reservation(self, reservation_id: uuid.UUID, *, order_number: str) -> None:
        """Turn the reservation's lines into an allocation to the order and delete it."""
        for line in self.lines:
            if line.reservation_id == reservation_id and not line.done:
                row = self.rows[(line.sku, line.warehouse_id)]
                self._move(
                    Kind.ALLOCATION,
                    row,
                    on_hand=-line.quantity,
                    reserved=-line.quantity,
                    reference=order_number,
                    reservation_id=reservation_id,
                )
                line.done = True
                self._deleted_lines.append(line.id)
        self._dropped.add(reservation_id)

    def drop_reservation(self, reservation_id: uuid.UUID) -> None:
        """Delete the reservation (its lines must have been released)."""
        self._dropped.add(reservation_id)

    def delete_if_empty(self, reservation_ids: Iterable[uuid.UUID]) -> None:
        """Delete these reservations too if they have expired and hold nothing any more."""
        self._reclaimed.update(reservation_ids)

    def _take(self, demand: Mapping[str, int]) -> list[tuple[_Row, int]]:
        """Where to take ``demand`` from: active warehouses in priority order; all or nothing."""
        by_sku: dict[str, list[_Row]] = defaultdict(list)
        for row in self.rows.values():
            if row.warehouse_active:
                by_sku[row.sku].append(row)
        takes, shortages = [], []
        for sku in sorted(demand):
            wanted = demand[sku]
            rows = sorted(by_sku[sku], key=lambda row: (row.warehouse_priority, row.warehouse_id))
            available = sum(row.on_hand - row.reserved for row in rows)
            if available < wanted:
                shortages.append(Shortage(sku=sku, requested=wanted, available=max(available, 0)))
                continue
            for row in rows:
                quantity = min(wanted, row.on_hand - row.reserved)
                if quantity > 0:
                    takes.append((row, quantity))
                    wanted -= quantity
                if not wanted:
                    break
        if shortages:
            raise InsufficientStock(shortages)
        return takes

    def reserve(
        self, demand: Mapping[str, int], *, reference: str, reservation_id: uuid.UUID, expires_at: datetime
    ) -> None:
        """Reserve ``demand`` under a new reservation. Raises ``InsufficientStock``."""
        takes = self._take(demand)
        self.new_reservation = Reservation(
            id=reservation_id, reference=reference, expires_at=expires_at, created_at=self.now
        )
        for row, quantity in takes:
            self._move(
                Kind.RESERVATION, row, reserved=quantity, reference=reference, reservation_id=reservation_id
            )
            self._new_lines.append((row.sku, row.warehouse_id, quantity))

    def allocate(
        self, demand: Mapping[str, int], *, order_number: str, reservation_id: uuid.UUID | None = None
    ) -> None:
        """Take ``demand`` off the shelves for an order. Raises ``InsufficientStock``."""
        for row, quantity in self._take(demand):
            self._move(
                Kind.ALLOCATION, row, on_hand=-quantity, reference=order_number, reservation_id=reservation_id
            )

    def change_on_hand(self, sku: str, warehouse_id: int, delta: int, *, kind: str, reference: str) -> None:
        self._move(kind, self.rows[(sku, warehouse_id)], on_hand=delta, reference=reference)

    # --- writing ---------------------------------------------------------------------------

    def save(self) -> int:
        """
        Write the changes, the ledger and the events; return how many reservations were deleted.
        The writes travel together with the events' INSERT into the outbox, in one round trip on
        PostgreSQL; an operation that found expired, emptied reservations to delete reads them in
        between.
        """
        changed = [row for key, row in self.rows.items() if (row.on_hand, row.reserved) != self._initial[key]]
        writes = _row_updates(changed) if changed else []
        if self._deleted_lines:
            writes.append(
                Statement(
                    f"DELETE FROM {_LINE} WHERE id IN ({placeholders(len(self._deleted_lines))})",  # noqa: S608
                    self._deleted_lines,
                )
            )
        dropped_at = None  # where the DELETE of reservations is among the writes: its row count
        if self._dropped:
            dropped_at = len(writes)
            writes.append(
                Statement(
                    f"DELETE FROM {_RESERVATION} WHERE id IN ({placeholders(len(self._dropped))})",  # noqa: S608
                    [as_uuid_parameter(pk) for pk in self._dropped],
                )
            )
        deleted = 0
        candidates = self._reclaimed - self._dropped
        if candidates:  # expired reservations emptied here: deleted once their lines are gone
            deleted += _deleted_by(run_together(writes), dropped_at)
            writes, dropped_at = [], None
            empty = list(
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(pk__in=candidates, expires_at__lte=self.now)
                .exclude(Exists(ReservationLine.objects.filter(reservation=OuterRef("pk"))))
                .values_list("pk", flat=True)
            )
            if empty:
                deleted += Reservation.objects.filter(pk__in=empty).delete()[0]
                metrics.reservations_expired(len(empty))
        if self.new_reservation is not None:
            writes += self._reservation_inserts()
        now, moves = as_datetime_parameter(self.now), self._movements.items()
        writes += insert_statements(  # the ledger: one INSERT, none when nothing moved
            _MOVEMENT,
            _MOVEMENT_COLUMNS,
            [
                (kind, sku, warehouse, reference, as_uuid_parameter(reservation), on_hand, reserved, now)
                for (kind, sku, warehouse, reference, reservation), (on_hand, reserved) in moves
                if on_hand or reserved
            ],
        )
        # The events go with the writes they announce: one round trip for all on PostgreSQL.
        outcomes = publish_many(self._events({row.sku for row in changed}), after=writes)
        return deleted + _deleted_by(outcomes, dropped_at)

    def _reservation_inserts(self) -> list[Statement]:
        reservation = self.new_reservation
        reservation_id = as_uuid_parameter(reservation.id)
        expires_at, created_at = (
            as_datetime_parameter(reservation.expires_at),
            as_datetime_parameter(reservation.created_at),
        )
        reservation._state.adding = False  # saved, as the caller sees it, once the writes have run
        return [
            *insert_statements(
                _RESERVATION,
                ("id", "reference", "expires_at", "created_at"),
                [(reservation_id, reservation.reference, expires_at, created_at)],
            ),
            *insert_statements(
                _LINE,
                ("reservation_id", "sku", "warehouse_id", "quantity"),
                [(reservation_id, *line) for line in self._new_lines],  # (sku, warehouse id, quantity)
            ),
        ]

    def _events(self, skus: set[str]) -> list[StockChanged]:
        """
        ``StockChanged`` for each SKU whose availability changed: as readers saw it (expired
        lines not counted) or as the counters said (so that the clean-up of an expired
        reservation, which readers had already discounted, still reaches the catalog).
        """
        rows_by_sku: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for key, row in self.rows.items():
            if row.sku in skus and row.warehouse_active:
                rows_by_sku[row.sku].append(key)
        events = []
        for sku in sorted(skus):
            seen = stored = after = 0
            for key in rows_by_sku[sku]:
                on_hand, reserved = self._initial[key]
                stored += on_hand - reserved
                seen += on_hand - reserved + self._expired_on_row[key]
                after += self.rows[key].on_hand - self.rows[key].reserved
            if after != seen or after != stored:
                flipped = (after > 0) != (seen > 0) or (after > 0) != (stored > 0)
                events.append(
                    StockChanged(sku=sku, available=after, in_stock=after > 0, in_stock_changed=flipped)
                )
        return events


# --- reservations ---------------------------------------------------------------------------


def _reservation_statement(reference: str) -> Statement:
    """The read of the reservation made under ``reference`` and its lines' SKUs (``_reservation_from``)."""
    return Statement(
        f"SELECT r.id, r.expires_at, line.sku FROM {_RESERVATION} r "  # noqa: S608 - as above
        f"LEFT JOIN {_LINE} line ON line.reservation_id = r.id WHERE r.reference = %s",
        [reference],
    )


def _reservation_from(rows: list[tuple]) -> tuple[uuid.UUID | None, datetime | None, set[str]]:
    """The id, expiry and SKUs of the reservation ``_reservation_statement`` read (``None``s: none)."""
    if not rows:
        return None, None, set()
    return as_uuid(rows[0][0]), as_datetime(rows[0][1]), {sku for _, _, sku in rows if sku}


def _locked_reservation_of(reference: str) -> tuple[uuid.UUID | None, datetime | None, set[str]]:
    """Lock ``reference`` (rule 1) and read its reservation, in one round trip."""
    *_, header = run_together([*_reference_lock(reference), _reservation_statement(reference)])
    return _reservation_from(header.rows)


# The reservations' writes join the caller's transaction without a savepoint: each raises its own
# errors (InsufficientStock, ReservationExpired, ...) before it writes anything (inventory/api.py).
@joined_transaction()
def reservation_make(*, reference: str, demand: Mapping[str, int], ttl_seconds: int) -> Reservation:
    """
    Reserve ``demand`` (quantity per SKU) under ``reference`` for ``ttl_seconds``, replacing the
    reservation already made under it, all or nothing. Raises ``InsufficientStock``.
    """
    previous_id, _, previous_skus = _locked_reservation_of(reference)
    stock = _LockedStock({*demand, *previous_skus}, reservation_ids=[previous_id] if previous_id else [])
    if previous_id is not None:
        stock.release_reservation(previous_id)
    reservation_id = uuid.uuid4()
    expires_at = stock.now + timedelta(seconds=ttl_seconds)
    stock.reserve(demand, reference=reference, reservation_id=reservation_id, expires_at=expires_at)
    stock.save()
    return stock.new_reservation


@joined_transaction()
def reservation_release(*, reference: str) -> None:
    """Release the reservation made under ``reference``, if there is one."""
    reservation_id, _, skus = _locked_reservation_of(reference)
    if reservation_id is None:
        return
    stock = _LockedStock(skus, reservation_ids=[reservation_id])
    stock.release_reservation(reservation_id)
    stock.save()


@joined_transaction()
def reservation_commit(*, reference: str, order_number: str) -> None:
    """
    Allocate the stock reserved under ``reference`` to ``order_number``. An expired or vanished
    reservation is made good from the stock available now, as the ledger says it was made.
    Committing an order a second time does nothing. The lock and the three reads before the stock
    rows' lock travel in one round trip.

    Raises:
        ReservationExpired: the stock can no longer be had (``NothingReserved``: nothing was ever
            reserved under ``reference``).
    """
    *_, allocated, header, ledger = run_together(
        [
            *_reference_lock(reference),
            selectors.order_movements_statement(order_number, Kind.ALLOCATION),
            _reservation_statement(reference),
            selectors.reserved_demand_statement(reference),
        ]
    )
    if allocated.rows:
        return
    reservation_id, expires_at, _ = _reservation_from(header.rows)
    header_found = reservation_id is not None
    reservation_id, demand = selectors.reserved_demand_from(ledger.rows, reservation_id)
    if not demand:
        raise NothingReserved(reference)
    stock = _LockedStock(demand, reservation_ids=[reservation_id] if header_found else [])
    if header_found and stock.is_held(expires_at):
        stock.allocate_reservation(reservation_id, order_number=order_number)
    else:
        if header_found:
            stock.drop_reservation(reservation_id)
        try:
            stock.allocate(demand, order_number=order_number, reservation_id=reservation_id)
        except InsufficientStock as exc:  # for the caller the reservation is what was lost
            raise ReservationExpired(exc.shortages) from exc
    stock.save()


def reservations_release_expired(*, limit: int = 1000, batch_size: int = 100) -> int:
    """
    Delete expired reservations, oldest first, releasing their stock, a batch per transaction
    so that stock rows are never locked for long; return how many were deleted. ``limit``
    bounds how many are picked; expired reservations with lines on the same stock rows go along.
    """
    deleted = 0
    while deleted < limit:
        with transaction.atomic():
            ids = list(
                Reservation.objects.filter(expires_at__lte=timezone.now())
                .order_by("expires_at", "id")
                .values_list("pk", flat=True)[: min(batch_size, limit - deleted)]
            )
            if not ids:
                break
            skus = ReservationLine.objects.filter(reservation_id__in=ids).values_list("sku", flat=True)
            stock = _LockedStock(set(skus))
            stock.delete_if_empty(ids)
            batch = stock.save()
        deleted += batch
        if not batch or len(ids) < batch_size:
            break
    return deleted


# --- on hand ---------------------------------------------------------------------------------


@transaction.atomic
def stock_set_on_hand(
    *, sku: str, warehouse_code: str, on_hand: int | None = None, delta: int | None = None, reason: str
) -> None:
    """
    Set (``on_hand``) or change (``delta``) what a warehouse has of a SKU, creating its stock
    row. Raises ``UnknownWarehouse``, ``BelowReserved``, ``ValueError`` (beyond the maximum).
    """
    warehouse = selectors.warehouse_by_code(warehouse_code)
    if warehouse is None:
        raise UnknownWarehouse(warehouse_code)
    stock = _LockedStock([sku])
    if (sku, warehouse.pk) not in stock.rows:
        StockLevel.objects.bulk_create([StockLevel(sku=sku, warehouse=warehouse)], ignore_conflicts=True)
        stock = _LockedStock([sku])
    row = stock.rows[(sku, warehouse.pk)]
    target = on_hand if on_hand is not None else row.on_hand + delta
    if target < row.reserved:
        raise BelowReserved(sku=sku, warehouse=warehouse.code, on_hand=target, reserved=row.reserved)
    if target > MAX_QUANTITY:
        raise ValueError(f"On hand cannot exceed {MAX_QUANTITY}.")
    change = target - row.on_hand
    if change:
        kind = Kind.RECEIPT if reason == "receipt" and change > 0 else Kind.ADJUSTMENT
        stock.change_on_hand(sku, warehouse.pk, change, kind=kind, reference=reason)
    stock.save()


@transaction.atomic
def stock_set_on_hand_many(
    *, levels: Sequence[tuple[str, str, int]], reason: str
) -> tuple[int, dict[int, str]]:
    """
    Set what warehouses have of many SKUs at once (an ERP's stock feed): ``levels`` holds
    ``(sku, warehouse_code, on_hand)`` with well-formed SKUs and quantities, one per SKU and
    warehouse. Missing stock rows are created, then every stock row of the SKUs is locked with
    one statement in the usual order, the expired reservation lines on them reclaimed, and the
    changes written with one UPDATE, one ledger INSERT and one outbox write, as a single-row set
    would write them. Returns ``(changed, rejected)``: ``rejected`` maps the index of a row
    that was not applied to why (an unknown warehouse, below what is reserved there).
    """
    rejected: dict[int, str] = {}
    warehouses = {
        warehouse.code: warehouse
        for warehouse in Warehouse.objects.filter(code__in={code for _, code, _ in levels})
    }
    wanted: list[tuple[int, str, int, int]] = []  # (index, sku, warehouse_id, on_hand)
    for index, (sku, code, on_hand) in enumerate(levels):
        if code in warehouses:
            wanted.append((index, sku, warehouses[code].pk, on_hand))
        else:
            rejected[index] = f"Unknown warehouse {echo(code)}."
    if not wanted:
        return 0, rejected
    skus = {sku for _, sku, _, _ in wanted}
    held = set(StockLevel.objects.filter(sku__in=skus).values_list("sku", "warehouse_id"))
    StockLevel.objects.bulk_create(
        [
            StockLevel(sku=sku, warehouse_id=warehouse_id)
            for _, sku, warehouse_id, _ in wanted
            if (sku, warehouse_id) not in held
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    stock = _LockedStock(skus)
    changed = 0
    for index, sku, warehouse_id, on_hand in wanted:
        row = stock.rows[(sku, warehouse_id)]
        if on_hand < row.reserved:
            rejected[index] = str(
                BelowReserved(sku=sku, warehouse=row.warehouse_code, on_hand=on_hand, reserved=row.reserved)
            )
            continue
        change = on_hand - row.on_hand
        if change:
            kind = Kind.RECEIPT if reason == "receipt" and change > 0 else Kind.ADJUSTMENT
            stock.change_on_hand(sku, warehouse_id, change, kind=kind, reference=reason)
            changed += 1
    stock.save()
    return changed, rejected


@transaction.atomic
def stock_receive_initial(
    *, warehouse_code: str, quantities: Mapping[str, int], reason: str, announce: bool = True
) -> int:
    """
    A first receipt of many SKUs at once (a demo catalog, a new warehouse): stock rows for the SKUs
    the warehouse does not hold yet, their ledger rows and ``StockChanged``, in a few bulk
    statements. SKUs it already holds are left alone, so a repeated call changes nothing.
    ``announce=False`` skips ``StockChanged`` for a caller that sets the read models itself.
    Raises ``UnknownWarehouse``.
    """
    warehouse = selectors.warehouse_by_code(warehouse_code)
    if warehouse is None:
        raise UnknownWarehouse(warehouse_code)
    held = set(
        StockLevel.objects.filter(warehouse=warehouse, sku__in=list(quantities)).values_list("sku", flat=True)
    )
    new = {sku: quantity for sku, quantity in quantities.items() if sku not in held}
    StockLevel.objects.bulk_create(
        [StockLevel(sku=sku, warehouse=warehouse, on_hand=quantity) for sku, quantity in new.items()],
        batch_size=2000,
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                sku=sku, warehouse=warehouse, kind=Kind.RECEIPT, on_hand_delta=quantity, reference=reason
            )
            for sku, quantity in new.items()
            if quantity
        ],
        batch_size=2000,
    )
    if announce:
        publish_availability(new)
    return len(new)


@joined_transaction()
def order_return(*, order_number: str) -> None:
    """Put the stock allocated to ``order_number`` back on hand, once."""
    allocations = selectors.order_allocations(order_number)
    if not allocations:
        return
    stock = _LockedStock({sku for sku, _, _ in allocations})
    # Checked under the locks, so that two returns of one order run one after the other.
    if selectors.order_has_movements(order_number, Kind.RETURN):
        return
    for sku, warehouse_id, quantity in allocations:
        stock.change_on_hand(sku, warehouse_id, quantity, kind=Kind.RETURN, reference=order_number)
    stock.save()


# --- warehouses ------------------------------------------------------------------------------


@transaction.atomic
def warehouse_save(*, warehouse: Warehouse) -> Warehouse:
    """
    Validate and save ``warehouse``. (De)activating it changes the availability of everything
    it holds, so ``StockChanged`` goes out for each of its SKUs.
    """
    was_active = (
        None
        if warehouse.pk is None
        else Warehouse.objects.filter(pk=warehouse.pk).values_list("is_active", flat=True).first()
    )
    warehouse.full_clean()
    warehouse.save()
    if was_active is not None and was_active != warehouse.is_active:
        publish_availability(selectors.skus_in_warehouse(warehouse.pk))
    return warehouse


def warehouse_ensure(*, code: str, name: str, priority: int = 0) -> Warehouse:
    """The warehouse ``code``, created or given ``name`` and ``priority``."""
    warehouse = Warehouse.objects.filter(code=code).first()
    if warehouse is None:
        return warehouse_save(warehouse=Warehouse(code=code, name=name, priority=priority))
    if (warehouse.name, warehouse.priority) != (name, priority):
        warehouse.name, warehouse.priority = name, priority
        return warehouse_save(warehouse=warehouse)
    return warehouse


def skus_register(*, skus: Iterable[str]) -> None:
    """Record ``skus`` as known (those already known are left alone); one INSERT per 2,000."""
    KnownSku.objects.bulk_create(
        [KnownSku(sku=sku) for sku in dict.fromkeys(skus)], batch_size=2000, ignore_conflicts=True
    )


def publish_availability(skus: Iterable[str]) -> None:
    """Publish ``StockChanged`` with the current availability of ``skus``."""
    available: dict[str, int] = dict.fromkeys(skus, 0)
    for row in selectors.stock_rows(available):
        available[row.sku] += row.available
    publish_many(
        StockChanged(sku=sku, available=available[sku], in_stock=available[sku] > 0)
        for sku in sorted(available)
    )
