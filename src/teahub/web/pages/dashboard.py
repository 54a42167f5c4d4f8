"""The dashboard at `/`: today's sales by store and channel, the last 30 days as a chart, top teas, gross margin,
low-stock and near-expiry alerts, and the health of the sync to external systems.

Each part is shown as the API would answer it to the same user: sales and stock limited to their stores (a
manager also sees the warehouses they draw on, as `/api/v1/stock` does), the margin only to the roles that may
read the profit report, the sync health only to the roles that may read `/api/v1/sync/status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from teahub.analytics import dashboard as figures
from teahub.auth.principal import Principal
from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from teahub.sync import service as sync
from teahub.sync.broker import BrokerConfig
from teahub.web.rendering import render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

MARGIN_ROLES = ("admin", "manager")  # GET /api/v1/reports/profit
SYNC_ROLES = ("admin", "integration", "manager")  # GET /api/v1/sync/status
SYNC_LAG_WARN_SECONDS = 300

# The chart's drawing box (SVG user units, stretched to the card's width and a fixed height).
CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 600, 160, 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    sales: int
    orders: int
    label: str | None  # the day under the bar: every fifth day and today
    today: bool


def chart(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars of the days' sales, scaled to the highest day."""
    top = max((d["sales"] for d in daily), default=0)
    plot = CHART_HEIGHT - CHART_TOP
    step = CHART_WIDTH / max(len(daily), 1)
    bars = []
    for n, d in enumerate(daily):
        height = round(plot * d["sales"] / top, 1) if top > 0 else 0.0
        last = n == len(daily) - 1
        bars.append(Bar(x=round(n * step + step * 0.12, 1), y=round(CHART_TOP + plot - height, 1),
                        width=round(step * 0.76, 1), height=height, day=d["day"], sales=d["sales"],
                        orders=d["orders"], label=d["day"].strftime("%m-%d") if last or n % 5 == 0 else None,
                        today=last))
    return {"bars": bars, "top": top, "width": CHART_WIDTH, "height": CHART_HEIGHT,
            "total": sum(d["sales"] for d in daily), "orders": sum(d["orders"] for d in daily)}


def _stock_scope(principal: Principal, uow: UnitOfWork) -> frozenset[str] | None:
    scope = principal.store_scope
    if scope is not None and principal.role == "manager":
        scope = scope | {loc["code"] for loc in inventory.list_locations(uow, kind="warehouse")}
    return scope


def sync_health(uow: UnitOfWork, request: Request) -> dict[str, Any]:
    status = sync.status(uow, BrokerConfig.from_settings(request.app.state.settings))
    targets = status["targets"]
    parts = [status["relay"], *targets] if status["relay"] else targets
    worst_lag = max((p["lag_seconds"] for p in parts), default=0.0)
    dead = sum(t["dead_letters"] for t in targets)
    failing = sum(1 for p in parts if p["consecutive_failures"])
    healthy = not dead and not failing and worst_lag < SYNC_LAG_WARN_SECONDS
    return {**status, "lag_seconds": worst_lag, "lag_events": max((p["lag_events"] for p in parts), default=0),
            "dead_letters": dead, "failing": failing, "failures": sum(p["failures"] for p in parts),
            "healthy": healthy}


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    scope = principal.store_scope
    shown = figures.dashboard(uow, scope, stock_scope=_stock_scope(principal, uow),
                              margin=principal.has_role(*MARGIN_ROLES))
    health = sync_health(uow, request) if principal.has_role(*SYNC_ROLES) else None
    return render(request, "dashboard/index.html", principal, page_title="Dashboard", figures=shown,
                  chart=chart(shown["sales"]["daily"]), sync=health, scope=sorted(scope) if scope is not None else None)
