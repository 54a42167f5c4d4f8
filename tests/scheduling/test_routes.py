"""The runner's state over HTTP (the router the API mounts under /api/v1), for admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.scheduling import default_registry
from teahub.scheduling.routes import router
from teahub.worker import Runner
from tests.scheduling.conftest import FakeClock, record_events


def mounted(app: FastAPI) -> None:
    if not any(getattr(route, "path", "") == "/api/v1/worker/status" for route in app.routes):
        app.include_router(router, prefix="/api/v1")


def test_status_and_failures_over_http(app: FastAPI, client: TestClient, factory: sessionmaker[Session],
                                       clock: FakeClock, monkeypatch: Any) -> None:
    mounted(app)

    def refuse(_uow: UnitOfWork, _event: dict[str, Any]) -> None:
        raise ValueError("refused")

    monkeypatch.setattr(default_registry, "subscriptions", {})
    default_registry.subscribe("test.http", ["thing.*"], refuse, start="beginning", max_attempts=1)
    (event,) = record_events(factory, ("thing.happened", {}))
    Runner(factory, registry=default_registry, clock=clock).run_once()

    answer = client.get("/api/v1/worker/status")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    (sub,) = [s for s in body["subscriptions"] if s["name"] == "test.http"]
    assert sub["failures"] == 1 and sub["position"] == event["seq"] and sub["lag"] == 0
    assert "scheduling.prune_job_runs" in [job["name"] for job in body["jobs"]]

    (failure,) = client.get("/api/v1/worker/failures", params={"subscription": "test.http"}).json()
    assert failure["event_id"] == event["id"] and failure["error"].startswith("ValueError: refused")


def test_only_admins_see_the_runner(app: FastAPI, client_as: Callable[..., TestClient]) -> None:
    mounted(app)
    clerk = client_as("clerk", ["BJ01"])
    assert clerk.get("/api/v1/worker/status").status_code == 403
    assert clerk.get("/api/v1/worker/failures").status_code == 403
