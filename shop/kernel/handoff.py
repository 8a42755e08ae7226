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
