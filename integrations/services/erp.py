"""
ERP hand-over: every placed order is delivered to the ERP once, off the checkout path.

Life of a hand-over (``ErpHandover``)::

    pending --claim--> in_flight --2xx--> delivered
       |  ^                |
       |  +---- backoff ---+ (ERP unavailable, attempts < ERP_MAX_ATTEMPTS)
       |                   +--> failed (dead letter: the cap, or a 4xx) --staff retry--> pending
       |                   +--> canceled (the order was canceled before fulfilment took it)
       +--> canceled (the order was canceled while the hand-over waited)

Before the first request the order is taken for fulfilment (``checkout.api.begin_handover``,
under the order's row lock): from then on the customer's cancel is refused with 409
``not_cancelable``, because the ERP may have the order. An order canceled before that is never
sent. A 4xx refusal by the ERP gives the order back (``abandon_handover``): it may be canceled.

The row, not the broker, holds the state: a delivery message that is lost (broker down, worker
killed) is replaced by the sweep (``handovers_requeue``), and a duplicate message is harmless,
because only a conditional UPDATE that finds the row pending and due may claim it. The ERP
deduplicates by ``Idempotency-Key`` (the order number), so even an attempt whose answer was lost
yields the same reference when repeated.
"""

import functools
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from checkout import api as checkout_api
from integrations import erp_client, errors, metrics
from integrations.models import ErpHandover
from shop.kernel import handoff
from shop.kernel.db import as_datetime_parameter, fetch, run

logger = logging.getLogger(__name__)

Status = ErpHandover.Status

# The statements every order's hand-over runs are written in SQL (the model's table, every value
# a parameter): building them with the ORM cost the worker more than running them.
_TABLE = ErpHandover._meta.db_table
_PAYLOAD = ErpHandover._meta.get_field("payload")


def backoff_delay(attempts: int) -> float:
    """
    Seconds to wait after the ``attempts``-th failed attempt: exponential, capped, with "equal
    jitter" (half the step fixed, half random), so that workers retrying together spread out while
    each delay is still at least as long as the one before.
    """
    step = min(
        settings.ERP_BACKOFF_MAX_SECONDS, settings.ERP_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    )
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not cryptography


def _enqueue(order_number: str, *, countdown: float = 0) -> None:
    """Send the delivery task after commit; if the broker is down, the sweep sends it later."""
    handoff.send_on_commit(
        "integrations.erp_deliver_handover",
        args=[order_number],
        countdown=max(countdown, 0),
        unsent=f"Could not enqueue the hand-over of {order_number}; the sweep will.",
    )


@transaction.atomic(savepoint=False)  # in the inbox's transaction: a failure fails them both
def handover_create(
    *, order_number: str, payload: dict, attempt_here: bool = False
) -> tuple[ErpHandover, bool]:
    """
    Record that ``order_number`` is to be handed over and enqueue it; idempotent by order number.
    ``attempt_here`` (a worker of the ``erp`` queue, as the ``OrderPlaced`` handler is): make the
    first attempt in this process once the record commits, instead of sending a delivery message
    for another task; later attempts go through messages as always, and an attempt that does not
    get to run here (the worker dies) leaves the row pending for the sweep.
    """
    now = timezone.now()
    handover = ErpHandover(order_number=order_number, payload=payload, next_attempt_at=now)
    handover.full_clean(validate_unique=False, validate_constraints=False)
    handover.created_at = handover.updated_at = now
    # One statement in SQL (every order runs it): an order recorded already, by an earlier or a
    # concurrent delivery of the same event, meets the unique order number and is returned as it is.
    inserted = fetch(
        f"INSERT INTO {_TABLE} (order_number, payload, status, attempts, last_error, erp_reference, "  # noqa: S608
        "next_attempt_at, created_at, updated_at) VALUES (%s, %s, %s, 0, '', '', %s, %s, %s) "
        "ON CONFLICT (order_number) DO NOTHING RETURNING id",
        [
            order_number,
            _PAYLOAD.get_db_prep_save(payload, connection),
            handover.status,
            *[as_datetime_parameter(now)] * 3,
        ],
    )
    if not inserted:
        return ErpHandover.objects.get(order_number=order_number), False
    handover.pk = inserted[0][0]
    handover._state.adding = False
    if attempt_here:
        transaction.on_commit(functools.partial(_first_attempt_here, order_number))
    else:
        _enqueue(order_number)
    return handover, True


def _first_attempt_here(order_number: str) -> None:
    """The first delivery attempt, after the record committed, never raising into the caller."""
    try:
        metrics.handover_attempt(handover_deliver(order_number=order_number))
    except Exception:
        logger.exception(
            "The first hand-over attempt of %s failed here; the sweep sends it again.", order_number
        )


def _reschedule(order_number: str, *, delay: float, error: str, claimed: bool) -> None:
    """Back to pending, due in ``delay`` seconds, and a delivery message with that countdown."""
    with transaction.atomic():
        current = Status.IN_FLIGHT if claimed else Status.PENDING
        ErpHandover.objects.filter(order_number=order_number, status=current).update(
            status=Status.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            last_error=error[:2000],
            updated_at=timezone.now(),
        )
        _enqueue(order_number, countdown=delay)


def handover_deliver(*, order_number: str) -> str:
    """
    Make one attempt to deliver the hand-over of ``order_number``, if it is pending and due; return
    what happened: ``delivered``, ``retrying``, ``failed``, ``deferred`` (the circuit breaker is
    open: no call, no attempt counted) or ``skipped`` (not due, already claimed or finished).
    """
    if not erp_client.breaker.closed():
        # Open or half-open: only a hand-over that is due may take the one probe of half-open.
        if not _due(order_number):
            return "skipped"
        open_until = erp_client.breaker.open_until()
        if open_until is not None:
            delay = max(open_until - timezone.now().timestamp(), 0) + random.uniform(0, 1)  # noqa: S311
            _reschedule(
                order_number, delay=delay, error="Circuit breaker open: the ERP is not called.", claimed=False
            )
            return "deferred"

    now = as_datetime_parameter(timezone.now())
    claimed = fetch(  # the claim, with the attempts it counts and what to send: one statement
        f"UPDATE {_TABLE} SET status = %s, claimed_at = %s, attempts = attempts + 1, updated_at = %s "  # noqa: S608
        "WHERE order_number = %s AND status = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
        "RETURNING attempts, payload",
        [Status.IN_FLIGHT, now, now, order_number, Status.PENDING, now],
    )
    if not claimed:  # not pending, not due (an early duplicate message), or claimed by another worker
        if not ErpHandover.objects.filter(order_number=order_number).exists():
            logger.warning("No hand-over for order %s.", order_number)
        return "skipped"
    attempts, payload = claimed[0][0], _PAYLOAD.from_db_value(claimed[0][1], None, connection)

    try:
        checkout_api.begin_handover(number=order_number)
    except checkout_api.OrderCanceled:
        _finish_canceled(order_number, claimed=True)
        return "canceled"
    except (checkout_api.UnknownOrder, checkout_api.IllegalTransition) as exc:
        _dead_letter(order_number, error=f"The order cannot be handed over: {exc!r}")
        return "failed"

    try:
        reference = metrics.erp_call(erp_client.post_order, order_number=order_number, payload=payload)
    except erp_client.ErpRejected as exc:
        _dead_letter(order_number, error=f"Rejected by the ERP: {exc}")
        checkout_api.abandon_handover(number=order_number)  # the ERP has not got it: cancelable again
        return "failed"
    except erp_client.ErpUnavailable as exc:
        erp_client.breaker.record_failure()
        if attempts >= settings.ERP_MAX_ATTEMPTS:
            _dead_letter(order_number, error=f"Gave up after {attempts} attempts: {exc}")
            return "failed"
        delay = backoff_delay(attempts)
        logger.info(
            "Hand-over of %s failed (attempt %s), retrying in %.1fs: %s",
            order_number,
            attempts,
            delay,
            exc,
        )
        _reschedule(order_number, delay=delay, error=str(exc), claimed=True)
        return "retrying"
    erp_client.breaker.record_success()
    _mark_delivered(order_number, reference=reference)
    logger.info("Hand-over of %s delivered: ERP reference %s.", order_number, reference)
    return "delivered"


def _due(order_number: str) -> bool:
    """Whether the hand-over of ``order_number`` is pending and due; a missing one is logged."""
    handover = ErpHandover.objects.filter(order_number=order_number).first()
    if handover is None:
        logger.warning("No hand-over for order %s.", order_number)
        return False
    # Not due: an early duplicate message; the one with the right countdown follows.
    return handover.status == Status.PENDING and (
        handover.next_attempt_at is None or handover.next_attempt_at <= timezone.now()
    )


def _dead_letter(order_number: str, *, error: str) -> None:
    logger.error("Hand-over of %s dead-lettered: %s", order_number, error)
    ErpHandover.objects.filter(order_number=order_number, status=Status.IN_FLIGHT).update(
        status=Status.FAILED, last_error=error[:2000], next_attempt_at=None, updated_at=timezone.now()
    )


def _finish_canceled(order_number: str, *, claimed: bool) -> bool:
    """The order was canceled before fulfilment took it: the hand-over ends, nothing is sent."""
    current = Status.IN_FLIGHT if claimed else Status.PENDING
    finished = ErpHandover.objects.filter(order_number=order_number, status=current).update(
        status=Status.CANCELED,
        last_error="The order was canceled before its hand-over; nothing was sent to the ERP.",
        next_attempt_at=None,
        updated_at=timezone.now(),
    )
    if finished:
        logger.info("Hand-over of %s ended: the order was canceled first.", order_number)
    return bool(finished)


def handover_cancel(*, order_number: str) -> bool:
    """
    The order was canceled: a hand-over still waiting (pending) ends as ``canceled``; one in
    flight or finished is left alone (the cancel could only win before fulfilment took the order,
    which the delivery checks itself). Returns whether one ended.
    """
    return _finish_canceled(order_number, claimed=False)


@transaction.atomic
def _mark_delivered(order_number: str, *, reference: str) -> None:
    """Store the reference and move the order to ``handed_over``, in one transaction."""
    now = as_datetime_parameter(timezone.now())
    run(
        f"UPDATE {_TABLE} SET status = %s, erp_reference = %s, last_error = '', next_attempt_at = NULL, "  # noqa: S608
        "delivered_at = %s, updated_at = %s WHERE order_number = %s AND status <> %s",
        [Status.DELIVERED, reference, now, now, order_number, Status.DELIVERED],
    )
    try:
        checkout_api.mark_handed_over(number=order_number, erp_reference=reference)
    except (checkout_api.UnknownOrder, checkout_api.IllegalTransition) as exc:
        # The ERP has the order either way; the shop's side needs a person (e.g. it was canceled).
        logger.error(
            "Order %s delivered to the ERP as %s but not marked handed over: %r", order_number, reference, exc
        )
        ErpHandover.objects.filter(order_number=order_number).update(
            last_error=f"Delivered, but the order could not be marked handed over: {exc!r}"[:2000]
        )


@transaction.atomic
def handover_retry(*, order_number: str) -> ErpHandover:
    """
    Try a failed (dead-lettered) hand-over again from scratch: pending, no attempts, due now.

    Raises:
        errors.HandoverNotFound: no hand-over for ``order_number``.
        errors.HandoverNotFailed: it is not ``failed``.
    """
    handover = ErpHandover.objects.select_for_update().filter(order_number=order_number).first()
    if handover is None:
        raise errors.HandoverNotFound(order_number)
    if handover.status != Status.FAILED:
        raise errors.HandoverNotFailed(f"The hand-over of {order_number} is {handover.status}, not failed.")
    handover.status = Status.PENDING
    handover.attempts = 0
    handover.next_attempt_at = timezone.now()
    handover.claimed_at = None
    handover.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at", "updated_at"])
    _enqueue(order_number)
    return handover


def handovers_requeue(*, limit: int = 500) -> int:
    """
    The sweep (beat): give back hand-overs whose worker died mid-attempt (``in_flight`` longer
    than ``ERP_IN_FLIGHT_TIMEOUT_SECONDS``: pending again, or failed at the cap), and re-send
    the delivery message of pending ones overdue by ``ERP_REQUEUE_GRACE_SECONDS`` (their
    message was lost). Returns how many it re-sent.
    """
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.ERP_IN_FLIGHT_TIMEOUT_SECONDS)
    stuck = ErpHandover.objects.filter(status=Status.IN_FLIGHT, claimed_at__lt=stuck_before)
    interrupted = "The attempt was interrupted (worker lost or timed out)."
    stuck.filter(attempts__gte=settings.ERP_MAX_ATTEMPTS).update(
        status=Status.FAILED, last_error=interrupted, next_attempt_at=None, updated_at=now
    )
    stuck.update(status=Status.PENDING, last_error=interrupted, next_attempt_at=now, updated_at=now)

    overdue_before = now - timedelta(seconds=settings.ERP_REQUEUE_GRACE_SECONDS)
    numbers = list(
        ErpHandover.objects.filter(status=Status.PENDING)
        .filter(
            Q(next_attempt_at__isnull=True)
            | Q(next_attempt_at__lte=overdue_before)
            | Q(last_error=interrupted)
        )
        .order_by("next_attempt_at")
        .values_list("order_number", flat=True)[:limit]
    )
    with transaction.atomic():
        for number in numbers:
            _enqueue(number)
    return len(numbers)
