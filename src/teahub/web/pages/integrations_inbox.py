"""The inbox at `/integrations/inbox`: inbound platform messages with their state and why they failed, filtered
by shop and state; one message's raw payload (for the roles that see personal data); replaying one, or every
failed one. The same service calls and roles as the API's inbox."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from teahub.channels import service as channels
from teahub.channels.models import INBOX_STATES
from teahub.channels.routes import OPERATE, PERSONAL
from teahub.errors import ValidationFailed
from teahub.web.pages.integrations import after_action, blank
from teahub.web.rendering import render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
PAGE_SIZE = 50


def _filters(shop: str | None, state: str | None, external_id: str | None) -> dict[str, str | None]:
    shop, state, external_id = blank(shop), blank(state), blank(external_id)
    if state is not None and state not in INBOX_STATES:
        raise ValidationFailed(f"state is one of {', '.join(INBOX_STATES)}", field="state")
    return {"shop": shop, "state": state, "external_id": external_id}


def _listing(uow: PageUow, filters: dict[str, str | None], before: int | None) -> dict[str, Any]:
    rows = channels.list_inbox(uow, **filters, before_id=before, limit=PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {"messages": rows, "older": rows[-1]["id"] if more and rows else None, "filters": filters}


@router.get("/integrations/inbox", response_class=HTMLResponse)
def inbox(request: Request, principal: PagePrincipal, uow: PageUow, shop: str | None = None,
          state: str | None = None, external_id: str | None = None,
          before: int | None = Query(default=None, ge=1)) -> Response:
    principal.require_role(*OPERATE)
    filters = _filters(shop, state, external_id)
    return render(request, "integrations/inbox.html", principal, page_title="Inbox", tab="inbox",
                  shops=channels.list_shops(uow), states=INBOX_STATES, before=before,
                  sees_payload=principal.has_role(*PERSONAL), **_listing(uow, filters, before))


@router.get("/integrations/inbox/{inbox_id}", response_class=HTMLResponse)
def message(request: Request, inbox_id: int, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*PERSONAL)  # the raw message holds buyers' personal data
    found = channels.get_message(uow, inbox_id)
    try:
        payload = json.dumps(json.loads(found["payload"]), ensure_ascii=False, indent=2)
    except ValueError:
        payload = found["payload"]
    return render(request, "integrations/message.html", principal, page_title="Inbound message", tab="inbox",
                  m=found, payload=payload)


@router.post("/integrations/inbox/{inbox_id}/replay", response_class=HTMLResponse)
def replay(request: Request, inbox_id: int, principal: PagePrincipal, uow: PageUow) -> Response:
    """Process one message again; answers its row as it is now."""
    principal.require_role(*OPERATE)
    channels.replay(uow, inbox_id)
    row = channels.get_message(uow, inbox_id)
    return after_action(request, "/integrations/inbox", lambda: render(
        request, "integrations/_inbox_row.html", principal, m=row, sees_payload=principal.has_role(*PERSONAL),
        replayed=True))


@router.post("/integrations/inbox/replay", response_class=HTMLResponse)
def replay_failed(request: Request, principal: PagePrincipal, uow: PageUow, shop: str | None = None,
                  state: str | None = None, external_id: str | None = None) -> Response:
    """Process every failed message again (of the shop filtered on, or all), oldest first."""
    principal.require_role(*OPERATE)
    filters = _filters(shop, state, external_id)
    outcomes = channels.replay_failed(uow, shop=filters["shop"])
    summary = {"replayed": len(outcomes), "processed": sum(o.state == "processed" for o in outcomes),
               "failed": sum(o.state == "failed" for o in outcomes)}
    return after_action(request, "/integrations/inbox", lambda: render(
        request, "integrations/_inbox_table.html", principal, summary=summary, before=None,
        sees_payload=principal.has_role(*PERSONAL), **_listing(uow, filters, None)))
