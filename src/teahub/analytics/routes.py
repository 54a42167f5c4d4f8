from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter

from teahub.analytics import profit
from teahub.analytics.schemas import BatchTrace, ProfitReport
from teahub.api_params import Limit
from teahub.auth.deps import CurrentPrincipal, Uow

router = APIRouter(tags=["reports"])


@router.get("/reports/profit", response_model=ProfitReport)
def profit_report(principal: CurrentPrincipal, uow: Uow,
                  by: Literal["product", "customer", "category", "channel", "location", "order"] = "product",
                  since: datetime | None = None, until: datetime | None = None, location: str | None = None,
                  channel: str | None = None, limit: Limit = 100) -> dict[str, Any]:
    """Revenue, batch cost and gross profit of what was sold, grouped; most profitable first."""
    principal.require_role("admin", "manager")
    if principal.store_scope is not None and location is None:
        principal.require_role("admin")  # a manager reports on a store of theirs
    if location is not None:
        principal.require_store(location)
    rows = profit.profit(uow, by, since=since, until=until, location=location, channel=channel, limit=limit)
    return {"by": by, "items": rows, "next": None}


@router.get("/reports/batch-trace", response_model=BatchTrace)
def batch_trace(sku: str, batch_code: str, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Where a batch went: every order and customer that received its units (for a recall)."""
    principal.require_role("admin", "manager")
    return profit.batch_trace(uow, sku, batch_code)
