"""The background runner's state, for operators (admins): mount under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.scheduling.failures import list_failures
from teahub.scheduling.registry import load_tasks
from teahub.scheduling.schemas import FailureOut, WorkerStatus
from teahub.scheduling.status import status

router = APIRouter(prefix="/worker", tags=["worker"])


@router.get("/status", response_model=WorkerStatus)
def worker_status(principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Each scheduled job's last run, each subscription's position, lag, last error and parked failures."""
    principal.require_role("admin")
    load_tasks()  # so registered jobs that never ran are listed too
    return status(uow)


@router.get("/failures", response_model=list[FailureOut])
def worker_failures(principal: CurrentPrincipal, uow: Uow, subscription: str | None = None,
                    include_resolved: bool = False,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Events a subscription gave up on after its attempts ran out (retry with `teahub worker retry-failures`)."""
    principal.require_role("admin")
    return list_failures(uow, subscription, include_resolved=include_resolved, limit=limit)
