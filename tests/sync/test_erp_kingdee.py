"""Kingdee K3Cloud against a local simulator: Save, Submit, Audit as separate steps with signed headers; a
retry resumes at the step that failed; a Save whose answer was lost is found, not saved twice; refusals carry
K3Cloud's message into the dead letter and replay once fixed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.sync import deadletters
from teahub.sync.erp import base
from teahub.sync.erp.kingdee import api_sign_text, signature, signed_headers
from tests.sync import erp_helpers
from tests.sync.erp_helpers import add_erp_target, drain, sale, shop
from tests.sync.helpers import uow_for
from tests.sync.simulators.kingdee import APP_ID, SECRET, KingdeeSimulator

OPTIONS: dict[str, Any] = {"app_id": APP_ID, "acct_id": "62a1", "user": "teahub", "sale_org": "100",
                           "lookups": {"materials": {"LJ-MQ26-250": "01.001", "DHP-WYS-100": "01.002"}}}

erp_engine = erp_helpers.erp_engine  # the fixture


@pytest.fixture
def k3() -> Iterator[KingdeeSimulator]:
    sim = KingdeeSimulator()
    yield sim
    sim.close()


def target(engine: Engine, k3: KingdeeSimulator, secret: str = SECRET, **kwargs: Any) -> int:
    return add_erp_target(engine, "k3", "kingdee", k3.url, secret, kwargs.pop("options", OPTIONS), **kwargs)


def test_an_order_is_saved_submitted_and_audited_once(client: TestClient, erp_engine: Engine,
                                                      k3: KingdeeSimulator) -> None:
    shop(client)
    order = sale(client)
    tid = target(erp_engine, k3)

    drain(erp_engine, tid)

    bill = k3.bills[order["number"]]
    assert bill["status"] == "C" and k3.bad_signatures == 0
    assert (k3.faults.calls["Save"], k3.faults.calls["Submit"], k3.faults.calls["Audit"]) == (1, 1, 1)
    model = bill["model"]
    assert model["FSaleOrgId"] == {"FNumber": "100"} and model["FBillTypeID"] == {"FNUMBER": "XSDD01_SYS"}
    assert [(e["FMaterialId"]["FNumber"], e["FQty"]) for e in model["FSaleOrderEntry"]] == [("01.001", 2),
                                                                                            ("01.002", 1)]
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and link.step == "audited" and link.external_id == str(bill["Id"])


def test_a_failed_submit_is_retried_from_submit_not_from_save(client: TestClient, erp_engine: Engine,
                                                              k3: KingdeeSimulator) -> None:
    shop(client)
    order = sale(client)
    k3.faults.fail("Submit", "500", times=2)
    tid = target(erp_engine, k3)

    drain(erp_engine, tid)

    assert k3.bills[order["number"]]["status"] == "C" and len(k3.bills) == 1
    assert (k3.faults.calls["Save"], k3.faults.calls["Submit"], k3.faults.calls["Audit"]) == (1, 3, 1)


def test_a_save_whose_answer_was_lost_is_found_and_carried_on(client: TestClient, erp_engine: Engine,
                                                              k3: KingdeeSimulator) -> None:
    shop(client)
    order = sale(client)
    k3.faults.fail("Save", "timeout")
    tid = target(erp_engine, k3, timeout_seconds=1)

    drain(erp_engine, tid)

    assert list(k3.bills) == [order["number"]] and k3.bills[order["number"]]["status"] == "C"
    assert k3.faults.calls["Save"] == 1 and k3.faults.calls["ExecuteBillQuery"] >= 1
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []


def test_a_refusal_dead_letters_with_k3clouds_message_and_replays(client: TestClient, erp_engine: Engine,
                                                                  k3: KingdeeSimulator) -> None:
    shop(client)
    order = sale(client)
    k3.materials.discard("01.002")
    tid = target(erp_engine, k3)

    drain(erp_engine, tid)
    letters = deadletters.list_dead_letters(uow_for(erp_engine))
    assert letters and "01.002" in letters[0]["error"] and "K3Cloud refused" in letters[0]["error"]
    assert k3.bills == {}

    k3.materials.add("01.002")
    deadletters.replay(uow_for(erp_engine), target="k3")
    drain(erp_engine, tid)
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
    assert k3.bills[order["number"]]["status"] == "C"


def test_a_wrong_secret_fails_the_signature_check(client: TestClient, erp_engine: Engine,
                                                  k3: KingdeeSimulator) -> None:
    shop(client)
    sale(client)
    tid = target(erp_engine, k3, secret="not-the-app-secret-of-k3")
    drain(erp_engine, tid)
    assert k3.bad_signatures >= 1 and k3.bills == {}
    assert "签名" in deadletters.list_dead_letters(uow_for(erp_engine))[0]["error"]


def test_signed_headers_follow_the_k3cloud_scheme() -> None:
    headers = signed_headers("secret-1", {"app_id": "123_abc", "acct_id": "a1", "user": "u"}, "/k3cloud/X.kdsvc",
                             now=1_700_000_000, nonce="n1")
    assert headers["X-Api-ClientID"] == "123" and headers["X-Api-Timestamp"] == "1700000000"
    assert headers["X-Api-Signature"] == signature("secret-1", api_sign_text("/k3cloud/X.kdsvc", "n1", "1700000000"))
    assert headers["X-Kd-Signature"] == signature("secret-1", "123_abc" + headers["X-Kd-Appdata"])
