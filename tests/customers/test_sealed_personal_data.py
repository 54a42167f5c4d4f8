"""PIPL: phone, email, address and birthday are sealed at rest, found through a keyed hash, masked for roles that
need not see them, and never copied in clear into events or the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, String, Text, inspect, select, text

from teahub.customers import rules
from teahub.customers.models import CustomerIdentity
from teahub.db import sealing
from teahub.db.uow import UnitOfWork
from tests.customers.helpers import API, create, ok

PHONE, NATIONAL = "13812345678", "+8613812345678"
ADDRESS = "浙江省杭州市西湖区龙井路16号3幢"
EMAIL = "wangfang@example.com"


def _every_stored_text(engine: Engine) -> str:
    """Every text value in every table, as the database holds it."""
    found = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            if table == "alembic_version":
                continue
            columns = [c["name"] for c in inspect(engine).get_columns(table)
                       if isinstance(c["type"], (String, Text)) or "JSON" in str(c["type"]).upper()
                       or str(c["type"]).upper() == "DATE"]
            for column in columns:
                found += [str(v) for (v,) in conn.execute(text(f'select "{column}" from "{table}"')) if v is not None]
    return "\n".join(found)


def _wang(client: TestClient) -> dict[str, Any]:
    return create(client, name="王芳", phone=PHONE, email=EMAIL, birthday="1990-05-12", address=ADDRESS,
                  contacts=[{"name": "王芳", "phone": "13900001111", "email": "wf2@example.com"}])


def test_personal_data_is_stored_sealed_and_never_copied_in_clear(client: TestClient, engine: Engine) -> None:
    wang = _wang(client)
    assert (wang["phone"], wang["address"], wang["birthday"], wang["birth_month"]) == (
        NATIONAL, ADDRESS, "1990-05-12", 5)
    ok(client.patch(f"{API}/{wang['id']}", json={"address": ADDRESS + "1单元", "note": "爱喝岩茶"}))

    stored = _every_stored_text(engine)
    for clear in ("13812345678", "12345678", ADDRESS[:8], "1990-05-12", "wangfang", "13900001111", "wf2@"):
        assert clear not in stored, f"{clear!r} is stored in clear"
    assert "爱喝岩茶" in stored  # the scan does see clear text: notes are not personal data to seal
    # ...and the customer reads back whole for a role that may see it.
    again = ok(client.get(f"{API}/{wang['id']}"))
    assert (again["phone"], again["email"], again["address"]) == (NATIONAL, EMAIL, ADDRESS + "1单元")
    assert again["contacts"][0]["phone"] == "+8613900001111"


def test_lookups_go_through_the_keyed_hash(client: TestClient) -> None:
    wang = _wang(client)
    create(client, name="李四", phone="13987655678")
    assert [c["id"] for c in ok(client.get(API, params={"q": PHONE}))["items"]] == [wang["id"]]
    assert [c["name"] for c in ok(client.get(API, params={"q": "5678"}))["items"]] == ["王芳", "李四"]
    assert [c["id"] for c in ok(client.get(API, params={"q": EMAIL.upper()}))["items"]] == [wang["id"]]
    assert [c["id"] for c in ok(client.get(API, params={"identity": f"phone:{PHONE}"}))["items"]] == [wang["id"]]
    # The same phone again answers the same customer (the hash is what is unique).
    assert create(client, 200, phone=PHONE)["id"] == wang["id"]


def test_sealed_columns_refuse_comparisons_in_sql() -> None:
    with pytest.raises(TypeError, match="blind index"):
        select(CustomerIdentity).where(CustomerIdentity.value == NATIONAL)


def test_a_clerk_sees_personal_data_masked(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    wang = _wang(client)
    clerk = client_as("clerk", ["BJ01"])
    seen = ok(clerk.get(f"{API}/{wang['id']}"))
    assert seen["personal_data_masked"] is True
    assert seen["phone"] == "+86 138****5678" and seen["email"] == "w***@example.com"
    assert seen["birthday"] is None and seen["birth_month"] == 5
    assert seen["address"].startswith("浙江省杭州市") and "龙井路" not in seen["address"]
    assert all(PHONE not in i["value"] for i in seen["identities"])
    assert seen["contacts"][0]["phone"] == "+86 139****1111"
    # The counter still finds the customer by the last four digits, and lists show the same masking.
    [listed] = ok(clerk.get(API, params={"q": "5678"}))["items"]
    assert listed["phone"] == "+86 138****5678"
    assert ok(clerk.get(f"/api/v1/customers/{wang['id']}/360"))["customer"]["phone"] == "+86 138****5678"
    manager = client_as("manager", ["BJ01"])
    assert ok(manager.get(f"{API}/{wang['id']}"))["phone"] == NATIONAL


def test_a_wrong_data_key_is_reported_not_read_as_garbage(client: TestClient, uow: UnitOfWork) -> None:
    wang = _wang(client)
    try:
        sealing.use_key(sealing.DataKey.from_bytes(b"k" * 32))
        with pytest.raises(sealing.SealingError, match="sealed with data key"), uow.reading():
            uow.session.get(CustomerIdentity, wang["id"])
    finally:
        sealing.use_key(None)


def test_masking_rules() -> None:
    assert rules.mask_email("zhang.san@qq.com") == "z***@qq.com"
    assert rules.mask_text("tb_wangfang", 1, 1) == "t******g"
    assert rules.mask_text("王芳", 1, 1) == "王*"
    assert rules.mask_identity("wechat_openid", "oAbc123xyz") == "o******z"
