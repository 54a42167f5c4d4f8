"""`teahub crm ...`: the analytics Typer app, against the test database."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from teahub.analytics.cli import app
from teahub.config import get_settings
from tests import factories as f
from tests.analytics.shop import ago, customer, sale, tea


def crm(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                          "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()
    return result


def test_crm_commands_print_the_reports(client: TestClient, db_url: str) -> None:
    f.location(client, "BJ01")
    f.location(client, "WH01", kind="warehouse")
    tea(client, "TEA", form="can 250 g", taste_notes=["豆香"])
    tea(client, "TEA2", taste_notes=["豆香"])
    f.receive(client, "TEA", 20)
    f.receive(client, "TEA2", 20)
    wang = customer(client, "王芳", "13812345600", home_store="BJ01")
    sale(client, wang, [("TEA", 1)], at=ago(60))
    sale(client, wang, [("TEA", 1)], at=ago(30))

    rfm = crm(db_url, "rfm", "--segment", "lost")
    assert rfm.exit_code == 0, rfm.output
    assert "Lost" in rfm.output and "王芳" in rfm.output
    clv = crm(db_url, "clv", "--json")
    assert clv.exit_code == 0, clv.output
    assert json.loads(clv.output)["items"][0]["customer_id"] == wang["id"]
    recommend = crm(db_url, "recommend", str(wang["id"]))
    assert recommend.exit_code == 0, recommend.output
    assert "TEA2" in recommend.output and "similar" in recommend.output
    due = crm(db_url, "repurchase-due", "--json")
    assert due.exit_code == 0, due.output
    assert [(r["customer_id"], r["sku"]) for r in json.loads(due.output)["items"]] == [(wang["id"], "TEA")]

    missing = crm(db_url, "recommend", "999999")
    assert missing.exit_code == 1 and "no customer 999999" in missing.output
    bad = crm(db_url, "rfm", "--segment", "vip")
    assert bad.exit_code == 2
