"""`teahub pipeline ...` against the test database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from teahub.config import get_settings
from teahub.crm.pipeline import service
from teahub.crm.pipeline.cli import app as cli
from teahub.crm.pipeline.schemas import QuoteIn, TaskIn
from teahub.db.uow import UnitOfWork
from tests.crm.pipeline.helpers import API, clock, company, events, ok, quote_body, shop


def run(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                          "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_expire_quotes_marks_sent_quotes_past_their_validity(client: TestClient, app: Any, db_url: str,
                                                             uow: UnitOfWork) -> None:
    shop(client)
    customer_id = company(client)["id"]
    past = UnitOfWork(app.state.session_factory, actor="user:root", clock=clock(datetime(2026, 1, 5, tzinfo=UTC)))
    old = service.create_quote(past, QuoteIn.model_validate({**quote_body(customer_id), "valid_until": "2026-01-10"}),
                               default_owner="root")
    service.send_quote(past, old["id"])
    current = ok(client.post(f"{API}/quotes", json=quote_body(customer_id)), 201)
    ok(client.post(f"{API}/quotes/{current['id']}/send"))

    assert "1 quote(s) expired" in run(db_url, "expire-quotes").output
    assert ok(client.get(f"{API}/quotes/{old['id']}"))["expired_at"] is not None
    assert ok(client.get(f"{API}/quotes/{current['id']}"))["status"] == "sent"
    assert [e["type"] for e in events(uow, "quote", old["id"])][-1] == "quote.expired"
    assert "0 quote(s) expired" in run(db_url, "expire-quotes").output


def test_overdue_tasks_are_listed(client: TestClient, app: Any, db_url: str) -> None:
    service.create_task(UnitOfWork(app.state.session_factory, actor="user:root"),
                        TaskIn(title="寄月饼礼盒样品", due_at=datetime(2026, 1, 2, 3, 0, tzinfo=UTC)),
                        default_assignee="root")
    output = run(db_url, "overdue-tasks", "--assignee", "root").output
    assert "寄月饼礼盒样品" in output and "2026-01-02 03:00" in output
    assert "no overdue tasks" in run(db_url, "overdue-tasks", "--assignee", "nobody").output
