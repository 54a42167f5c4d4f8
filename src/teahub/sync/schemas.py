from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class EventOut(BaseModel):
    id: str
    seq: int
    type: str
    occurred_at: str
    aggregate_type: str
    aggregate_id: str
    version: int
    payload: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    next: str | None = None
