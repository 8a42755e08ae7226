"""
``Idempotency-Key`` for checkout completion (the OpenAPI schema of its operation): the same key
with the same body replays the stored response; with another body it is refused; while the first
request runs, it is a conflict.

The record is inserted (and committed) before the work starts, so concurrent requests with one
key meet at the unique constraint: exactly one does the work. A record whose request died without
finishing is taken over after ``IDEMPOTENCY_STALE_SECONDS``.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from checkout.errors import KeyReused, RequestInProgress
from checkout.models import IdempotencyRecord
from shop.kernel.db import as_datetime_parameter, fetch, run

# The claim and the stored answer are written in SQL (the model's table, every value a
# parameter): every completion runs both.
_TABLE = IdempotencyRecord._meta.db_table
_BODY = IdempotencyRecord._meta.get_field("response_body")


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def begin(*, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | Replay:
    """
    Claim ``key`` in ``scope`` for a new request, or return the finished one's response.

    Raises:
        KeyReused: the key was used with another body.
        RequestInProgress: a request with this key is running.
    """
    now = timezone.now()
    claimed = fetch(  # one statement, no savepoint: concurrent claims meet at the unique constraint
        f'INSERT INTO {_TABLE} (scope, "key", request_hash, created_at) VALUES (%s, %s, %s, %s) '  # noqa: S608
        'ON CONFLICT (scope, "key") DO NOTHING RETURNING id',
        [scope, key, fingerprint, as_datetime_parameter(now)],
    )
    if claimed:
        return IdempotencyRecord(
            pk=claimed[0][0], scope=scope, key=key, request_hash=fingerprint, created_at=now
        )
    record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.request_hash != fingerprint:
        raise KeyReused(key)
    if record.finished_at is not None:
        return Replay(status=record.response_status, body=record.response_body)
    stale_before = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
    if record.created_at < stale_before:
        taken = IdempotencyRecord.objects.filter(
            pk=record.pk, created_at=record.created_at, finished_at__isnull=True
        ).update(created_at=timezone.now())
        if taken:
            record.refresh_from_db()
            return record
    raise RequestInProgress(key)


def finish(record: IdempotencyRecord, *, status: int, body: Any) -> None:
    """Store the response to replay for this key."""
    run(
        f"UPDATE {_TABLE} SET response_status = %s, response_body = %s, finished_at = %s WHERE id = %s",  # noqa: S608
        [status, _BODY.get_db_prep_save(body, connection), as_datetime_parameter(timezone.now()), record.pk],
    )


def abandon(record: IdempotencyRecord) -> None:
    """Forget the key (the request failed in a way the client may retry with the same key)."""
    IdempotencyRecord.objects.filter(pk=record.pk, finished_at__isnull=True).delete()


def purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
