"""Reconciliation: what teahub sent to an ERP against what the ERP has; missing records are re-queued and
arrive again (once), differences are reported; through the API, the CLI and the daily job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.scheduling.registry import default_registry
from teahub.sync import tasks
from tests.sync import erp_helpers
from tests.sync.erp_helpers import add_erp_target, drain, sale, shop
from tests.sync.helpers import uow_for
from tests.sync.simulators.kingdee import SECRET as K3_SECRET
from tests.sync.simulators.kingdee import KingdeeSimulator
from tests.sync.simulators.odoo import KEY, OdooSimulator
from tests.sync.test_erp_kingdee import OPTIONS as K3_OPTIONS
from tests.sync.test_erp_odoo import OPTIONS as ODOO_OPTIONS
from tests.sync.test_mappings import invoke

erp_engine = erp_helpers.erp_engine  # the fixture


@pytest.fixture
def odoo() -> Iterator[OdooSimulator]:
    sim = OdooSimulator()
    yield sim
    sim.close()


def test_a_record_missing_in_odoo_is_reported_and_sent_again(client: TestClient, erp_engine: Engine,
                                                             odoo: OdooSimulator, db_url: str) -> None:
    shop(client)
    first, second = sale(client), sale(client)
    tid = add_erp_target(erp_engine, "odoo", "odoo", odoo.url, KEY, ODOO_OPTIONS, types=("order.*", "customer.*"))
    drain(erp_engine, tid)
    assert len(odoo.orders()) == 2
    lost = next(o for o in odoo.orders() if o["client_order_ref"] == second["number"])
    del odoo.records["sale.order"][lost["id"]]  # someone deleted it in Odoo
    kept = next(o for o in odoo.orders() if o["client_order_ref"] == first["number"])
    kept["amount_total"] = 1.0  # and someone edited this one

    dry = invoke(db_url, "reconcile", "--target", "odoo", "--no-repair")
    assert dry.exit_code == 0, dry.output
    assert f"missing   order:{second['id']} {second['number']}" in dry.output and "re-queued 0" in dry.output

    report = client.post("/api/v1/sync/targets/odoo/reconcile", params={"days": 3}).json()
    assert report["checked"] == 3 and report["repaired"] == 1  # two orders and their customer
    assert [m["record_key"] for m in report["missing"]] == [f"order:{second['id']}"]
    (different,) = report["different"]
    assert different["record_key"] == f"order:{first['id']}" and "amount 100 fen" in different["problems"][0]
    assert report["missing"][0]["mapping"] == "odoo-order@v1"

    drain(erp_engine, tid)
    refs = sorted(o["client_order_ref"] for o in odoo.orders())
    assert refs == sorted([first["number"], second["number"]])  # sent again, once
    again = client.post("/api/v1/sync/targets/odoo/reconcile").json()
    assert again["missing"] == [] and again["repaired"] == 0


def test_an_unaudited_kingdee_bill_is_reported_and_its_steps_resumed(client: TestClient, erp_engine: Engine,
                                                                     ) -> None:
    k3 = KingdeeSimulator()
    try:
        shop(client)
        order = sale(client)
        tid = add_erp_target(erp_engine, "k3", "kingdee", k3.url, K3_SECRET, K3_OPTIONS)
        drain(erp_engine, tid)
        k3.bills[order["number"]]["status"] = "B"  # un-audited in K3Cloud

        report = client.post("/api/v1/sync/targets/k3/reconcile").json()
        (different,) = report["different"]
        assert different["problems"] == ["status B (not audited)"] and different["repairable"]
        assert report["repaired"] == 1
        drain(erp_engine, tid)
        assert k3.bills[order["number"]]["status"] == "C" and k3.faults.calls["Save"] == 1
    finally:
        k3.close()


def test_reconcile_refuses_webhooks_and_unknown_targets(client: TestClient) -> None:
    client.post("/api/v1/sync/targets", json={"name": "hook", "url": "http://127.0.0.1:9/h",
                                              "secret": "s" * 20, "event_types": ["*"]})
    assert client.post("/api/v1/sync/targets/hook/reconcile").json()["field"] == "name"
    assert client.post("/api/v1/sync/targets/nope/reconcile").status_code == 404


def test_the_daily_job_reconciles_every_erp_target(client: TestClient, erp_engine: Engine,
                                                   odoo: OdooSimulator) -> None:
    assert "sync.reconcile" in default_registry.jobs
    shop(client)
    sale(client)
    tid = add_erp_target(erp_engine, "odoo", "odoo", odoo.url, KEY, ODOO_OPTIONS)
    drain(erp_engine, tid)
    odoo.records["sale.order"].clear()
    result: dict[str, Any] = tasks.reconcile_job(uow_for(erp_engine))
    assert result["targets"][0]["missing"] == 1 and result["targets"][0]["repaired"] == 1
    drain(erp_engine, tid)
    assert len(odoo.orders()) == 1
