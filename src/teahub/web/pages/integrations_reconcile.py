"""Reconciliation at `/integrations/reconcile`: run one for a shop (its recent orders against the platform's) or
for an ERP target (what teahub sent against what the ERP has), see the differences and repairs, and the
nightly runs' stored reports. Roles as the API: shops for admins, managers and integration users; ERP targets
for admins and integration users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from teahub.channels import service as channels
from teahub.channels.reconcile import DEFAULT_DAYS, MAX_DAYS
from teahub.channels.routes import OPERATE
from teahub.errors import ValidationFailed
from teahub.scheduling.history import recent_runs
from teahub.sync import reconcile as erp_reconcile
from teahub.sync import service as sync
from teahub.sync.routes import MANAGE as SYNC_MANAGE
from teahub.web.rendering import render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
NIGHTLY = ("channels.reconcile", "sync.reconcile")
Code = Annotated[str, Form(min_length=1, max_length=63)]


def _days(value: str, most: int) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= most:
        raise ValidationFailed(f"days is 1 to {most}", field="days")
    return int(value)


@router.get("/integrations/reconcile", response_class=HTMLResponse)
def reconcile_page(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*OPERATE)
    erp_targets: list[dict[str, Any]] = []
    if principal.has_role(*SYNC_MANAGE):
        erp_targets = [t for t in sync.list_targets(uow) if t["kind"] in erp_reconcile.ERP_KINDS]
    return render(request, "integrations/reconcile.html", principal, page_title="Reconciliation", tab="reconcile",
                  shops=channels.list_shops(uow), erp_targets=erp_targets, can_erp=principal.has_role(*SYNC_MANAGE),
                  default_days=DEFAULT_DAYS,
                  max_days=MAX_DAYS, runs=recent_runs(uow, NIGHTLY, limit=10))


@router.post("/integrations/reconcile/shop", response_class=HTMLResponse)
def reconcile_shop(request: Request, principal: PagePrincipal, uow: PageUow, shop: Code,
                   days: Annotated[str, Form(max_length=4)] = str(DEFAULT_DAYS)) -> Response:
    """Compare the shop's recently modified orders with teahub's; missing or stale ones are repaired through the
    inbox; what still differs is reported."""
    principal.require_role(*OPERATE)
    report = channels.reconcile_shop(uow, shop, days=_days(days, MAX_DAYS))
    return render(request, "integrations/_reconcile_report.html", principal, shop_report=report)


@router.post("/integrations/reconcile/target", response_class=HTMLResponse)
def reconcile_target(request: Request, principal: PagePrincipal, uow: PageUow, target: Code,
                     days: Annotated[str, Form(max_length=4)] = "7",
                     repair: Annotated[bool, Form()] = False) -> Response:
    principal.require_role(*SYNC_MANAGE)
    report = erp_reconcile.reconcile_target(uow, target, days=_days(days, 366), repair=repair)
    return render(request, "integrations/_reconcile_report.html", principal, target_report=report)
