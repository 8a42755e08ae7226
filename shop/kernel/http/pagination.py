"""
Keyset (cursor) pagination for every list of the API.

A page is ``{"results": [...], "next": url|null, "previous": url|null}``. The cursor is an opaque
token holding the sort key of the row at the page's edge, so a page costs one indexed query
whatever its depth, and rows inserted meanwhile neither repeat nor vanish. Every ordering ends
with a unique field (the primary key), which makes the key total. ``page_size`` is clamped to
``API_MAX_PAGE_SIZE``; a ``page_size`` or ``cursor`` that cannot be read is a 400.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from shop.kernel import bounded_json


@dataclass(frozen=True)
class Ordering:
    """A total order: ``fields`` (ending with a unique one), all ascending or all descending."""

    fields: tuple[str, ...]
    descending: bool = False

    def order_by(self, *, reverse: bool = False) -> list:
        descending = self.descending != reverse
        return [F(name).desc() if descending else F(name).asc() for name in self.fields]


CURSOR_PATTERN = "[A-Za-z0-9_-]*"  # base64url without padding, as ``_encode`` writes it


class PageQuery(serializers.Serializer):
    """The query parameters of pagination, validated like any other input."""

    cursor = serializers.RegexField(
        f"^{CURSOR_PATTERN}\\Z",
        required=False,
        max_length=2000,
        error_messages={"invalid": "Invalid cursor."},
    )
    page_size = serializers.IntegerField(required=False, min_value=1)


class KeysetPagination:
    """Paginates a queryset (or an already sorted list of dicts) by keyset."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def __init__(self, request, *, ordering: Ordering):
        self.request = request
        self.ordering = ordering
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        requested = query.validated_data.get("page_size", settings.API_PAGE_SIZE)
        self.page_size = min(requested, settings.API_MAX_PAGE_SIZE)
        raw_cursor = query.validated_data.get("cursor")
        self.cursor = self._decode(raw_cursor) if raw_cursor else None
        self.has_next = False
        self.has_previous = False
        self.first_key: list | None = None
        self.last_key: list | None = None

    # --- cursor encoding ---------------------------------------------------------------------
    @staticmethod
    def _encode(direction: str, key: Sequence[Any]) -> str:
        raw = json.dumps({"d": direction, "k": [_jsonable(value) for value in key]})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, token: str) -> tuple[str, list]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = bounded_json.loads(raw, max_depth=2)  # {"d": ..., "k": [...]}; deeper is forged
            direction, key = data["d"], data["k"]
        except (binascii.Error, ValueError, TypeError, KeyError):
            raise serializers.ValidationError({"cursor": ["Invalid cursor."]}) from None
        if direction not in ("n", "p") or not isinstance(key, list) or len(key) != len(self.ordering.fields):
            raise serializers.ValidationError({"cursor": ["Invalid cursor."]})
        return direction, key

    # --- querysets ---------------------------------------------------------------------------
    def paginate_queryset(self, queryset: QuerySet) -> list:
        """Return the rows of the requested page (one query)."""
        reverse = self.cursor is not None and self.cursor[0] == "p"
        if self.cursor is not None:
            key = self._typed_key(queryset, self.cursor[1])
            queryset = queryset.filter(self._after(key, reverse=reverse))
        rows = list(queryset.order_by(*self.ordering.order_by(reverse=reverse))[: self.page_size + 1])
        return self._finish(rows, reverse=reverse, key_of=self._row_key)

    def _typed_key(self, queryset: QuerySet, key: list) -> list:
        typed = []
        for name, value in zip(self.ordering.fields, key, strict=True):
            try:
                field = queryset.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = queryset.query.annotations[name].output_field
            try:
                typed.append(None if value is None else field.to_python(value))
            except (DjangoValidationError, TypeError, ValueError):
                raise serializers.ValidationError({"cursor": ["Invalid cursor."]}) from None
        return typed

    def _after(self, key: list, *, reverse: bool):
        """
        Rows strictly after ``key`` in the (possibly reversed) ordering, as one row-value
        comparison, ``(name, id) > (%s, %s)``: PostgreSQL reads it as an index condition on a
        ``(name, id)`` index and starts at the cursor, where the equivalent ``name > %s OR (name =
        %s AND id > %s)`` walked the index from its first entry and filtered (a deep page cost
        what an OFFSET costs). Django's own tuple lookups (5.2's composite keys) write it.
        """
        descending = self.ordering.descending != reverse
        lookup = TupleLessThan if descending else TupleGreaterThan
        return lookup(Tuple(*(F(name) for name in self.ordering.fields)), list(key))

    def _row_key(self, row) -> list:
        return [getattr(row, name) for name in self.ordering.fields]

    # --- lists (small, cached collections such as the category tree) ------------------------
    def paginate_list(self, items: Sequence[dict]) -> list[dict]:
        """Return the page of ``items``, a list already sorted by ``ordering``, keyed by dict key."""
        reverse = self.cursor is not None and self.cursor[0] == "p"
        ordered = list(reversed(items)) if reverse else list(items)
        if self.cursor is not None:
            key = self.cursor[1]
            descending = self.ordering.descending != reverse
            try:
                ordered = [
                    item
                    for item in ordered
                    if (self._dict_key(item) < key if descending else self._dict_key(item) > key)
                ]
            except TypeError:
                raise serializers.ValidationError({"cursor": ["Invalid cursor."]}) from None
        return self._finish(ordered[: self.page_size + 1], reverse=reverse, key_of=self._dict_key)

    def _dict_key(self, item: dict) -> list:
        return [item[name] for name in self.ordering.fields]

    # --- page edges and the response -----------------------------------------------------------
    def _finish(self, rows: list, *, reverse: bool, key_of) -> list:
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
            self.has_previous = more
            self.has_next = True
        else:
            self.has_next = more
            self.has_previous = self.cursor is not None
        if rows:
            self.first_key = key_of(rows[0])
            self.last_key = key_of(rows[-1])
        else:
            self.has_next = self.has_previous = False
        return rows

    def _link(self, direction: str, key: list | None) -> str | None:
        if key is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self._encode(direction, key))

    def next_link(self) -> str | None:
        return self._link("n", self.last_key) if self.has_next else None

    def previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return self._link("p", self.first_key)

    def get_paginated_response(self, data: list) -> Response:
        return Response({"results": data, "next": self.next_link(), "previous": self.previous_link()})


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
