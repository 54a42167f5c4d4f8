"""The care API: rules' settings and the frequency cap (admin, manager), running the daily rules by hand, and
the queue of outgoing customer messages (staff)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from teahub.api_params import MAX_ID, Limit, QueryId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.crm.care import service
from teahub.crm.care.rules import SOURCE_MAX, MessageStatus, RuleName
from teahub.crm.care.schemas import MessageOut, PolicyIn, PolicyOut, RuleIn, RuleOut, RunIn, RunOut
from teahub.errors import Forbidden
from teahub.pagination import DEFAULT_LIMIT, Page, page

router = APIRouter(tags=["care"])
MANAGE_ROLES = ("admin", "manager")
# Staff who see the queue; a clerk sees one customer's messages at a time (at the counter).
READ_ROLES = ("admin", "manager", "clerk", "integration")


@router.get("/care/rules", response_model=list[RuleOut])
def list_rules(principal: CurrentPrincipal, uow: Uow) -> list[dict[str, Any]]:
    """Every care rule with its settings in force (defaults until changed)."""
    principal.require_role(*READ_ROLES)
    return service.list_rules(uow)


@router.put("/care/rules/{name}", response_model=RuleOut)
def put_rule(name: RuleName, body: RuleIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Turn a rule on or off, choose its channel and template, set its number of days (admin, manager)."""
    principal.require_role(*MANAGE_ROLES)
    return service.put_rule(uow, name, body.model_dump(exclude_none=True))


@router.get("/care/policy", response_model=PolicyOut)
def get_policy(principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """The frequency cap: at most max_messages per customer within window_days."""
    principal.require_role(*READ_ROLES)
    return service.get_policy(uow)


@router.put("/care/policy", response_model=PolicyOut)
def put_policy(body: PolicyIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*MANAGE_ROLES)
    return service.put_policy(uow, max_messages=body.max_messages, window_days=body.window_days)


@router.post("/care/run", response_model=RunOut)
def run(principal: CurrentPrincipal, uow: Uow, body: Annotated[RunIn | None, Body()] = None) -> dict[str, Any]:
    """Run the daily rules now (they also run by themselves at 09:00 Beijing time); messages already queued
    for the same cause are not queued again. Answers the count of each outcome per rule."""
    principal.require_role(*MANAGE_ROLES)
    return service.run_daily(uow, only=body.rule if body else None)


@router.get("/care/messages", response_model=Page[MessageOut])
def list_messages(principal: CurrentPrincipal, uow: Uow, customer_id: QueryId = None,
                  status: MessageStatus | None = None,
                  source: Annotated[str | None, Query(min_length=1, max_length=SOURCE_MAX)] = None,
                  after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="`next` of the previous page")]
                  = None,
                  limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Queued, sent and failed messages in the order they were queued; clerks give a customer_id."""
    principal.require_role(*READ_ROLES)
    if customer_id is None and not principal.has_role("admin", "manager", "integration"):
        raise Forbidden("give the customer_id whose messages you want to see", field="customer_id")
    rows = service.list_messages(uow, customer_id=customer_id, status=status, source=source, after_id=after or 0,
                                 limit=limit + 1)
    return page(rows, limit)
