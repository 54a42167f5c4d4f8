from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.pagination import cursor_int
from teahub.sync import service
from teahub.sync.schemas import EventPage

router = APIRouter(tags=["events"])


@router.get("/events", response_model=EventPage)
def list_events(principal: CurrentPrincipal, uow: Uow, after: str | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Events in the order they were recorded. Pass the answer's `next` as `after` to read on."""
    principal.require_role("admin", "integration", "manager")
    events = service.read_events(uow, cursor_int(after), limit)
    return {"items": events, "next": str(events[-1]["seq"]) if events else after}
