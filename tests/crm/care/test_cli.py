"""`teahub crm care ...` against the test database."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from typer.testing import CliRunner, Result

from teahub.config import get_settings
from teahub.crm.care.cli import app as cli
from teahub.crm.care.rules import local_date
from teahub.db.uow import UnitOfWork
from tests.crm.care.helpers import person, queue


def care(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                        "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()


def test_run_queues_the_daily_messages_and_prints_the_counts(app: Any, db_url: str) -> None:
    uow = UnitOfWork(app.state.session_factory, actor="test")
    wang = person(uow, birthday=date(1990, local_date(uow.now()).month, 1))
    answer = care(db_url, "run", "--rule", "birthday", "--json")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["rules"]["birthday"]["queued"] == 1
    table = care(db_url, "run")
    assert table.exit_code == 0, table.output
    assert "birthday" in table.output and "win_back" in table.output and "duplicate" in table.output
    listed = care(db_url, "messages", "--customer", str(wang))
    assert listed.exit_code == 0, listed.output
    assert "care_birthday" in listed.output and "care:birthday" in listed.output
    assert "no messages" in care(db_url, "messages", "--customer", str(wang + 1)).output


def test_rules_lists_the_settings_and_the_cap(app: Any, db_url: str) -> None:
    result = care(db_url, "rules")
    assert result.exit_code == 0, result.output
    assert "at most 2 messages per customer in 7 days" in result.output
    assert "win_back" in result.output and "90" in result.output and "order.completed" in result.output
    as_json = json.loads(care(db_url, "rules", "--json").output)
    assert [r["name"] for r in as_json["rules"]][0] == "thank_you" and as_json["policy"]["window_days"] == 7


def test_messages_as_json_oldest_first(app: Any, db_url: str) -> None:
    uow = UnitOfWork(app.state.session_factory, actor="test")
    wang = person(uow)
    queue(uow, wang, "a")
    queue(uow, wang, "b")
    rows = json.loads(care(db_url, "messages", "--json", "--limit", "1").output)
    assert [m["dedupe_key"] for m in rows] == ["b"]  # the latest one
    rows = json.loads(care(db_url, "messages", "--json").output)
    assert [m["dedupe_key"] for m in rows] == ["a", "b"]


def test_errors_are_a_message_and_a_failing_status(app: Any, db_url: str) -> None:
    wrong = care(db_url, "run", "--rule", "thank_you")
    assert wrong.exit_code == 1 and "rule" in wrong.output and "daily rules" in wrong.output
    status = care(db_url, "messages", "--status", "lost")
    assert status.exit_code == 1 and "status is queued, sent, failed" in status.output
