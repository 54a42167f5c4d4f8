from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from teahub.api_params import PathId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.pagination import cursor_int
from teahub.sync import mappings, reconcile, service
from teahub.sync.broker import BrokerConfig
from teahub.sync.erp import options as erp_options
from teahub.sync.schemas import (
    DeadLetterOut,
    EventPage,
    MappingInfo,
    MappingPreviewIn,
    MappingPreviewOut,
    ReconcileOut,
    RecordStatus,
    ReplayOut,
    SyncStatus,
    TargetIn,
    TargetOptionsIn,
    TargetOptionsOut,
    TargetOut,
    TargetPatch,
)

router = APIRouter(tags=["events"])

MANAGE = ("admin", "integration")
LOOK = ("admin", "integration", "manager")


def _broker(request: Request) -> BrokerConfig | None:
    return BrokerConfig.from_settings(request.app.state.settings)


@router.get("/events", response_model=EventPage)
def list_events(principal: CurrentPrincipal, uow: Uow, after: str | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Events in the order they were recorded. Pass the answer's `next` as `after` to read on."""
    principal.require_role("admin", "integration", "manager")
    events = service.read_events(uow, cursor_int(after), limit)
    return {"items": events, "next": str(events[-1]["seq"]) if events else after}


# -- targets ------------------------------------------------------------------------------------------------
@router.get("/sync/targets", response_model=list[TargetOut], tags=["sync"])
def list_targets(principal: CurrentPrincipal, uow: Uow) -> list[dict[str, Any]]:
    """Outbound connector subscriptions (secrets are never shown)."""
    principal.require_role(*LOOK)
    return service.list_targets(uow)


@router.post("/sync/targets", response_model=TargetOut, status_code=201, tags=["sync"])
def add_target(principal: CurrentPrincipal, uow: Uow, body: TargetIn) -> dict[str, Any]:
    """Add a target: a webhook gets every event whose type matches `event_types`, signed with `secret`."""
    principal.require_role(*MANAGE)
    return service.add_target(uow, body)


@router.get("/sync/targets/{name}", response_model=TargetOut, tags=["sync"])
def get_target(principal: CurrentPrincipal, uow: Uow, name: str) -> dict[str, Any]:
    principal.require_role(*LOOK)
    return service.get_target(uow, name)


@router.patch("/sync/targets/{name}", response_model=TargetOut, tags=["sync"])
def update_target(principal: CurrentPrincipal, uow: Uow, name: str, body: TargetPatch) -> dict[str, Any]:
    """Change a target's URL, secret, event types, attempts, timeout, or enable/disable it."""
    principal.require_role(*MANAGE)
    return service.update_target(uow, name, body)


@router.delete("/sync/targets/{name}", status_code=204, response_class=Response, tags=["sync"])
def remove_target(principal: CurrentPrincipal, uow: Uow, request: Request, name: str) -> Response:
    """Remove a target with its retry queue, record states and dead letters."""
    principal.require_role(*MANAGE)
    service.remove_target(uow, name, _broker(request))
    return Response(status_code=204)


# -- status, dead letters -----------------------------------------------------------------------------------
@router.get("/sync/status", response_model=SyncStatus, tags=["sync"])
def sync_status(principal: CurrentPrincipal, uow: Uow, request: Request) -> dict[str, Any]:
    """The relay's and each target's position, lag in events and seconds, deliveries, failures, retry queue
    and dead letters."""
    principal.require_role(*LOOK)
    return service.status(uow, _broker(request))


@router.get("/sync/records", response_model=list[RecordStatus], tags=["sync"])
def sync_records(principal: CurrentPrincipal, uow: Uow, target: str, record: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Sync state per record (`record` = `aggregate_type:aggregate_id`, e.g. `order:12`) at one target."""
    principal.require_role(*LOOK)
    return service.records(uow, target, record, limit)


@router.get("/sync/dead-letters", response_model=list[DeadLetterOut], tags=["sync"])
def dead_letters(principal: CurrentPrincipal, uow: Uow, target: str | None = None, include_resolved: bool = False,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Events a target gave up on, with the error (unresolved ones unless `include_resolved`)."""
    principal.require_role(*LOOK)
    return service.list_dead_letters(uow, target, include_resolved=include_resolved, limit=limit)


@router.post("/sync/dead-letters/replay", response_model=ReplayOut, tags=["sync"])
def replay_all(principal: CurrentPrincipal, uow: Uow, target: str | None = None) -> dict[str, Any]:
    """Queue every unresolved dead letter (of `target`, or of all targets) for delivery again."""
    principal.require_role(*MANAGE)
    return service.replay_dead_letters(uow, target=target)


@router.post("/sync/dead-letters/{dead_letter_id}/replay", response_model=ReplayOut, tags=["sync"])
def replay_one(principal: CurrentPrincipal, uow: Uow, dead_letter_id: PathId) -> dict[str, Any]:
    """Queue one dead letter for delivery again (nothing to do if it is resolved already)."""
    principal.require_role(*MANAGE)
    return service.replay_dead_letters(uow, dead_letter_id)


# -- ERP connectors: options, mappings, reconciliation ------------------------------------------------------
@router.put("/sync/targets/{name}/options", response_model=TargetOptionsOut, tags=["sync"])
def set_target_options(principal: CurrentPrincipal, uow: Uow, name: str, body: TargetOptionsIn) -> dict[str, Any]:
    """Replace a target's connector options (mappings and lookup tables are checked)."""
    principal.require_role(*MANAGE)
    return erp_options.set_options(uow, name, body.options)


@router.get("/sync/mappings", response_model=list[MappingInfo], tags=["sync"])
def list_mappings(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """The mappings teahub ships (a target uses `<kind>-<record>` unless its options name another)."""
    principal.require_role(*LOOK)
    return mappings.listing()


@router.post("/sync/mappings/preview", response_model=MappingPreviewOut, tags=["sync"])
def preview_mapping(principal: CurrentPrincipal, uow: Uow, body: MappingPreviewIn) -> dict[str, Any]:
    """The document a mapping makes of a sample (or stored) record, without sending it. A mapping that does
    not load is a problem naming the line and the key."""
    principal.require_role(*MANAGE)
    mapping = mappings.load_text(body.mapping, "mapping")
    return mappings.preview(uow, mapping, sample=body.sample, record_id=body.record_id, lookups=body.lookups,
                            options=body.options)


@router.post("/sync/targets/{name}/reconcile", response_model=ReconcileOut, tags=["sync"])
def reconcile_target(principal: CurrentPrincipal, uow: Uow, name: str,
                     days: Annotated[int, Query(ge=1, le=366)] = 7, repair: bool = True) -> dict[str, Any]:
    """Compare what teahub sent to an ERP target in the last `days` with what the ERP has; re-queue the
    missing records (with `repair`)."""
    principal.require_role(*MANAGE)
    return reconcile.reconcile_target(uow, name, days=days, repair=repair)


# -- metrics ------------------------------------------------------------------------------------------------
# Served at the root, /metrics, where Prometheus looks (api.py mounts it without the /api/v1 prefix).
metrics_router = APIRouter()


@metrics_router.get("/metrics", response_class=Response, tags=["sync"],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
def metrics(principal: CurrentPrincipal, uow: Uow, request: Request) -> Response:
    """Prometheus metrics of the relay and the sync targets, and of the shops' inboxes and stock pushes (scrape
    with a bearer token of an admin, integration or manager user)."""
    from teahub.channels import service as channels

    principal.require_role(*LOOK)
    return Response(service.metrics_text(uow, _broker(request), (channels.metrics_collector(uow),)),
                    media_type=CONTENT_TYPE_LATEST)
