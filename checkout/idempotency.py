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
from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.errors import KeyReused, RequestInProgress
from checkout.models import IdempotencyRecord


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
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=fingerprint)
    except IntegrityError:
        pass
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
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=status, response_body=body, finished_at=timezone.now()
    )


def abandon(record: IdempotencyRecord) -> None:
    """Forget the key (the request failed in a way the client may retry with the same key)."""
    IdempotencyRecord.objects.filter(pk=record.pk, finished_at__isnull=True).delete()


def purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
