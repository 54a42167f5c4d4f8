"""`teahub crm segments ...` and `teahub crm campaigns ...` against the test database."""

from __future__ import annotations

import json

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from teahub.config import get_settings
from teahub.crm.campaigns.cli import campaigns_app, segments_app
from teahub.db.uow import UnitOfWork
from tests.analytics.shop import ago
from tests.crm.campaigns.helpers import GREEN, coupon, coupon_campaign, grants, person, segment, sell, shop


def run(app: typer.Typer, db_url: str, *args: str, exit_code: int = 0) -> Result:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                          "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == exit_code, (result.output, result.exception)
    return result


def test_segments_and_campaigns_from_the_command_line(client: TestClient, db_url: str, uow: UnitOfWork) -> None:
    shop(client)
    wang = person(client, "王芳", "13300000001", tier="gold")
    li = person(client, "李雷", "13300000002", tier="gold")
    person(client, "韩梅", "13300000003", tier="silver")
    made = segment(client, "金卡会员", {"tiers": ["gold"]})
    coupon(client, value=2000)
    campaign = coupon_campaign(client, made["id"])

    listed = run(segments_app, db_url, "list").output
    assert "金卡会员" in listed and '"tiers": ["gold"]' in listed
    shown = run(segments_app, db_url, "show", str(made["id"])).output
    assert "size: 2 customer(s)" in shown and "王芳" in shown and "李雷" in shown and "韩梅" not in shown
    assert json.loads(run(segments_app, db_url, "show", str(made["id"]), "--json").output)["size"] == 2
    assert "no segment 99" in run(segments_app, db_url, "show", "99", exit_code=1).output

    assert "draft" in run(campaigns_app, db_url, "list").output
    launched = run(campaigns_app, db_url, "launch", str(campaign["id"])).output
    assert f"campaign {campaign['id']}" in launched and "finished, 2 recipient(s): granted 2" in launched
    assert grants(uow, campaign["id"]) == [(wang["id"], "issued"), (li["id"], "issued")]
    run(campaigns_app, db_url, "launch", str(campaign["id"]))
    assert len(grants(uow, campaign["id"])) == 2  # launching again grants nothing more
    listed = run(campaigns_app, db_url, "list").output
    assert "finished" in listed and "COMEBACK" in listed

    code = client.get(f"/api/v1/customers/{wang['id']}/coupons").json()["items"][0]["code"]
    sell(client, wang, GREEN, at=ago(1), coupons=[code])
    results = json.loads(run(campaigns_app, db_url, "results", str(campaign["id"]), "--json").output)
    assert (results["redemptions"], results["orders"], results["revenue"]) == (1, 1, 10000 - 2000)
    table = run(campaigns_app, db_url, "results", str(campaign["id"])).output
    assert "redemptions" in table and "¥80.00" in table and "50.0%" in table
    assert "no campaign 99" in run(campaigns_app, db_url, "results", "99", exit_code=1).output
