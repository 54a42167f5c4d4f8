"""Targets, status, dead letters and metrics through the API and the CLI."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from teahub.config import get_settings
from teahub.sync import cli
from teahub.sync.delivery import deliver
from tests import factories as f
from tests.sync.conftest import FAST, SECRET, Receiver
from tests.sync.helpers import record, uow_for

TARGET = {"name": "partner", "url": "http://127.0.0.1:9/hook", "secret": SECRET, "event_types": ["order.*"]}


def test_targets_are_managed_by_admins_and_integrations(client: TestClient, client_as: Any) -> None:
    created = client.post("/api/v1/sync/targets", json=TARGET)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_secret"] and "secret" not in body and body["event_types"] == ["order.*"]
    assert client.post("/api/v1/sync/targets", json=TARGET).json()["field"] == "name"
    bad = client.post("/api/v1/sync/targets", json={**TARGET, "name": "x2", "event_types": ["order.*.x"]})
    assert bad.status_code == 422 and bad.json()["field"] == "event_types.0"
    assert client.post("/api/v1/sync/targets", json={**TARGET, "name": "x3", "url": "ftp://a"}).json()["field"] \
        == "url"
    f.location(client, "BJ01")
    manager = client_as("manager", ["BJ01"])
    assert manager.get("/api/v1/sync/targets").status_code == 200
    assert manager.post("/api/v1/sync/targets", json={**TARGET, "name": "x4"}).status_code == 403
    integration = client_as("integration")
    changed = integration.patch("/api/v1/sync/targets/partner", json={"enabled": False, "max_attempts": 3})
    assert changed.json()["enabled"] is False and changed.json()["max_attempts"] == 3
    assert client.get("/api/v1/sync/targets/nope").json()["field"] == "name"
    assert integration.delete("/api/v1/sync/targets/partner").status_code == 204
    assert client.get("/api/v1/sync/targets").json() == []


def test_status_dead_letters_replay_and_metrics(client: TestClient, app: Any, receiver: Receiver) -> None:
    engine: Engine = app.state.engine
    client.post("/api/v1/sync/targets", json={**TARGET, "url": receiver.url, "max_attempts": 1})
    receiver.answer = lambda e: 500
    record(engine, [("order", "1"), ("order", "2")])
    target_id = client.get("/api/v1/sync/targets/partner").json()["id"]
    deliver(uow_for(engine), target_id, options=FAST)

    letters = client.get("/api/v1/sync/dead-letters").json()
    assert [d["event_seq"] for d in letters] == [1, 2] and letters[0]["target"] == "partner"
    st = client.get("/api/v1/sync/status").json()
    assert st["broker"] is False and st["relay"] is None
    (target,) = st["targets"]
    assert target["dead_letters"] == 2 and target["failures"] == 2 and target["lag_events"] == 0
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'teahub_sync_target_dead_letters{target="partner"} 2.0' in metrics.text

    receiver.answer = lambda e: 200
    one = client.post(f"/api/v1/sync/dead-letters/{letters[0]['id']}/replay").json()
    assert one == {"replayed": 1, "ids": [letters[0]["id"]]}
    assert client.post("/api/v1/sync/dead-letters/999/replay").json()["field"] == "id"
    assert client.post("/api/v1/sync/dead-letters/replay", params={"target": "partner"}).json()["replayed"] == 2
    deliver(uow_for(engine), target_id, options=FAST)
    assert client.get("/api/v1/sync/dead-letters").json() == []
    assert len(client.get("/api/v1/sync/dead-letters", params={"include_resolved": True}).json()) == 2
    assert sorted(e["seq"] for e in receiver.applied) == [1, 2]
    (rec,) = client.get("/api/v1/sync/records", params={"target": "partner", "record": "order:1"}).json()
    assert rec["last_seq"] == 1 and rec["failures"] == 1 and rec["last_success_at"]


def invoke(db_url: str, *args: str) -> Any:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.app, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                            "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()


def test_cli_targets_status_and_dead_letters(app: Any, db_url: str, receiver: Receiver) -> None:
    engine: Engine = app.state.engine
    added = invoke(db_url, "targets", "add", "erp", "--url", receiver.url, "--secret", SECRET, "-e", "order.*",
                   "--max-attempts", "1", "--from-beginning")
    assert added.exit_code == 0, added.output
    assert "erp" in invoke(db_url, "targets", "list").output
    bad = invoke(db_url, "targets", "add", "x", "--url", "nope", "--secret", SECRET, "-e", "*")
    assert bad.exit_code == 1 and "url" in bad.output
    receiver.answer = lambda e: 500
    record(engine, [("order", "1")])
    once = invoke(db_url, "run", "--once")
    assert once.exit_code == 0, once.output
    listed = invoke(db_url, "dead-letters", "list")
    assert "order.paid" in listed.output and "HTTP 500" in listed.output
    assert "erp" in invoke(db_url, "status").output
    receiver.answer = lambda e: 200
    replayed = invoke(db_url, "dead-letters", "replay", "--all")
    assert replayed.exit_code == 0 and "queued 1" in replayed.output
    invoke(db_url, "run", "--once")
    assert "No dead letters" in invoke(db_url, "dead-letters", "list").output
    assert [e["seq"] for e in receiver.applied] == [1]
    assert invoke(db_url, "targets", "remove", "erp").exit_code == 0


def test_a_dead_letter_id_beyond_any_id_is_refused_not_a_server_error(client: TestClient) -> None:
    """Found by the schema fuzzing: an id past 64 bits reached the database and failed there (500)."""
    answer = client.post(f"/api/v1/sync/dead-letters/{2**64}/replay")
    assert answer.status_code == 422 and answer.json()["field"] == "dead_letter_id"
    assert client.post("/api/v1/sync/dead-letters/7/replay").status_code == 404
