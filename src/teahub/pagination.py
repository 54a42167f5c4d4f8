"""Keyset pagination shared by list endpoints: every list answers {"items": [...], "next": cursor|null}."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = None


def page(items: list[Any], limit: int, key: str = "id") -> dict[str, Any]:
    """Build a page from up to limit+1 fetched items: the extra one only tells that more exist."""
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    next_cursor = None
    if more and last is not None:
        next_cursor = str(last[key] if isinstance(last, dict) else getattr(last, key))
    return {"items": items, "next": next_cursor}


def cursor_int(cursor: str | None) -> int:
    if not cursor:
        return 0
    from teahub.errors import ValidationFailed

    try:
        value = int(cursor)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise ValidationFailed("cursor must be the `next` value of a previous page", field="cursor")
    return value
