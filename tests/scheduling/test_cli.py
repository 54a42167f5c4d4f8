"""`teahub worker ...` against the test database, with the registry holding only this test's tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from teahub import worker
from teahub.config import get_settings
from teahub.db.uow import UnitOfWork
from teahub.scheduling import Every, cli, default_registry
from teahub.scheduling.failures import list_failures
from teahub.scheduling.registry import load_tasks
from tests.scheduling.conftest import record_events


class Broken:
    def __init__(self) -> None:
        self.broken = True

    def __call__(self, _uow: UnitOfWork, event: dict[str, Any]) -> None:
        if self.broken:
            raise ValueError(f"cannot handle event {event['seq']}")


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Broken]:
    """The default registry with one job and one subscription (whatever capabilities registered is set aside)."""
    # Import every capability's tasks first, into the real registry: a module first imported while the registry
    # is set aside would register into the throwaway one, and be missing for later tests in this process.
    load_tasks()
    monkeypatch.setattr(default_registry, "jobs", {})
    monkeypatch.setattr(default_registry, "subscriptions", {})
    for module in (cli, worker):
        monkeypatch.setattr(module, "load_tasks", lambda: [])
    broken = Broken()
    default_registry.register_job(name="test.report", cadence=Every(timedelta(hours=1)),
                                  run=lambda _uow: {"customers": 12})
    default_registry.subscribe("test.fragile", ["thing.*"], broken, start="beginning", max_attempts=1)
    yield broken


def invoke(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.app, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                            "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()


def ok(db_url: str, *args: str) -> str:
    result = invoke(db_url, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_run_once_status_failures_and_retry(db_url: str, factory: sessionmaker[Session], handler: Broken) -> None:
    (event,) = record_events(factory, ("thing.happened", {}))

    summary = json.loads(ok(db_url, "run", "--once"))
    assert [(j["job"], j["outcome"]) for j in summary["jobs"]] == [("test.report", "succeeded")]
    assert summary["subscriptions"][0]["parked"] == 1

    status = ok(db_url, "status")
    assert "test.report" in status and "succeeded" in status and '{"customers": 12}' in status
    assert "test.fragile" in status and f"cannot handle event {event['seq']}" in status
    report = json.loads(ok(db_url, "status", "--json"))
    assert report["subscriptions"][0]["failures"] == 1 and report["subscriptions"][0]["lag"] == 0

    failures = ok(db_url, "failures")
    assert "test.fragile" in failures and "thing.happened" in failures and "cannot handle event" in failures

    again = invoke(db_url, "retry-failures")
    assert again.exit_code == 1 and "failed again 1" in again.output
    handler.broken = False
    assert "resolved 1" in ok(db_url, "retry-failures", "--subscription", "test.fragile")
    assert "No failed events." in ok(db_url, "failures")
    assert "test.fragile" in ok(db_url, "failures", "--all")
    assert list_failures(UnitOfWork(factory)) == []
