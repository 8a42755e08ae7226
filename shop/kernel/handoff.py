"""
The hand-off to the workers: send a Celery task by name, now or once the transaction commits,
and live with a broker that is down.

Work that must not be lost is recorded in the database first (an outbox row, a job ``queued``, a
hand-over ``pending``); the message only says "do it now". So a broker failure is logged and
swallowed here, never raised into a request or a commit: the sweep of whoever recorded the work
(the outbox relay, ``integrations.jobs_send_unsent``, ``integrations.erp_requeue_handovers``)
sends it again later.

Tasks are named, not imported: the sender (a service, the kernel's events) sits below the tasks
that call it, and a name needs no import. The message is routed by name (``CELERY_TASK_ROUTES``),
as the task's own ``apply_async`` would route it.
"""

import functools
import logging
from collections.abc import Sequence
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def send(
    task_name: str,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    unsent: str,
    **options: Any,
) -> bool:
    """
    Send the task ``task_name`` with ``args`` and ``kwargs`` now (``options`` as for
    ``apply_async``: ``countdown``, ``queue``, ...); True if the broker took it. If it did not
    (unreachable, refused), log the warning ``unsent`` (what happens to the work instead) and
    return False.
    """
    try:
        current_app.send_task(task_name, args=list(args), kwargs=kwargs or {}, **options)
    except Exception:
        logger.warning(unsent, exc_info=True)
        return False
    return True


def send_on_commit(
    task_name: str,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    unsent: str,
    **options: Any,
) -> None:
    """
    ``send`` the task once the current transaction commits (at once outside one); nothing is sent
    if it rolls back, and a broker failure after the commit never raises into the caller.
    """
    transaction.on_commit(
        functools.partial(send, task_name, args=args, kwargs=kwargs, unsent=unsent, **options)
    )


def _asked_key(task_name: str) -> str:
    return f"kernel:handoff:asked:v1:{task_name}"


def send_coalesced(task_name: str, *, unsent: str, seconds: float, countdown: float = 0) -> None:
    """
    ``send`` the task ``task_name`` (no arguments) unless an earlier ``send_coalesced`` of it has
    not started yet (the task calls ``started`` first thing): that one will do this caller's work
    too. Under load many callers a second so share one task instead of a task each; a
    ``countdown`` (seconds the task waits before it starts) lets more of them share it. The mark
    (in the default cache) lives ``seconds`` at most, so a task that was lost (a broker restarted
    empty) holds back new sends that long at most; a cache that does not answer sends every
    time, and a send the broker did not take leaves no mark.
    """
    try:
        if cache.add(_asked_key(task_name), 1, seconds) is False:
            return
    except Exception:
        logger.warning("No mark for %s: the cache did not answer; sending anyway", task_name, exc_info=True)
    if not send(task_name, unsent=unsent, countdown=countdown or None):
        cache.delete(_asked_key(task_name))


def started(task_name: str) -> None:
    """The coalesced task ``task_name`` starts its work: the next ``send_coalesced`` sends again."""
    cache.delete(_asked_key(task_name))
