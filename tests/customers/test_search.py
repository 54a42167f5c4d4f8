"""Finding customers: by the last four digits of a phone at the counter, by phone, name or identity."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, text

from teahub.customers import service
from teahub.db.uow import UnitOfWork
from tests.customers.helpers import API, assert_problem, create, ok


def _ids(client: Any, **params: Any) -> list[int]:
    return [c["id"] for c in ok(client.get(API, params=params))["items"]]


def test_search_by_the_last_four_digits_of_a_phone(client: Any) -> None:
    wang = create(client, name="王芳", phone="13812345678")
    li = create(client, name="李雷", phone="13999995678")
    create(client, name="张伟", phone="13700001234")
    create(client, name="5678 茶社")  # a name holding the digits is not a phone match
    assert _ids(client, q="5678") == [wang["id"], li["id"]]
    assert _ids(client, q="1234") != []
    assert _ids(client, q="0000") == []


def test_search_by_a_full_phone_in_any_format(client: Any) -> None:
    wang = create(client, name="王芳", phone="13812345678")
    create(client, name="李雷", phone="13999995678")
    assert _ids(client, q="+86 138-1234-5678") == [wang["id"]]
    assert _ids(client, q="13812345678") == [wang["id"]]


def test_search_by_name_contains_in_any_case(client: Any) -> None:
    fang = create(client, name="Wang Fang")
    wang_lei = create(client, name="王雷")
    create(client, name="Li Lei")
    company = create(client, name="采购部", kind="company", company_name="Hangzhou WANGJIA Tea Co.")
    assert _ids(client, q="wang") == [fang["id"], company["id"]]
    assert _ids(client, q="王") == [wang_lei["id"]]
    assert _ids(client, q="100%") == []  # LIKE wildcards are taken literally


def test_search_by_email(client: Any) -> None:
    li = create(client, name="李雷", email="li.lei@example.com")
    assert _ids(client, q="LI.LEI@example.com") == [li["id"]]


def test_filter_by_identity_and_by_kind(client: Any) -> None:
    buyer = create(client, name="买家", identities=[{"kind": "jd", "value": "jd_pin_77"}])
    company = create(client, name="某公司", kind="company")
    assert _ids(client, identity="jd:jd_pin_77") == [buyer["id"]]
    assert _ids(client, identity="phone:138 1234 5678") == []
    assert _ids(client, kind="company") == [company["id"]]
    assert_problem(client.get(API, params={"identity": "jd_pin_77"}), 422, "identity")
    assert_problem(client.get(API, params={"identity": "myspace:x"}), 422, "identity")
    assert_problem(client.get(API, params={"kind": "robot"}), 422, "kind")


def test_lists_page_with_a_cursor(client: Any) -> None:
    made = [create(client, name=f"客户{n}")["id"] for n in range(5)]
    first = ok(client.get(API, params={"limit": 2}))
    assert [c["id"] for c in first["items"]] == made[:2]
    second = ok(client.get(API, params={"limit": 2, "cursor": first["next"]}))
    assert [c["id"] for c in second["items"]] == made[2:4]
    third = ok(client.get(API, params={"limit": 2, "cursor": second["next"]}))
    assert [c["id"] for c in third["items"]] == made[4:]
    assert third["next"] is None
    assert_problem(client.get(API, params={"limit": 501}), 422, "limit")
    assert_problem(client.get(API, params={"cursor": "abc"}), 422, "cursor")


def test_merged_customers_are_not_listed(client: Any) -> None:
    target = create(client, name="王芳", phone="13812345678")
    source = create(client, name="王芳 (淘宝)", identities=[{"kind": "taobao", "value": "tb_wf"}])
    ok(client.post(f"{API}/{target['id']}/merge", json={"source_id": source["id"]}))
    assert _ids(client, q="王芳") == [target["id"]]


def test_last_four_digit_lookup_uses_the_index(engine: Engine, uow: UnitOfWork) -> None:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "last4_hash" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        service.list_customers(uow, q="5678")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    [(statement, parameters)] = seen
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("set enable_seqscan = off"))  # tiny tables: ask whether an index *can* serve
            plan = conn.exec_driver_sql("explain " + statement, parameters).all()
        else:
            plan = conn.exec_driver_sql("explain query plan " + statement, parameters).all()
    assert "ix_customer_identities_last4_hash" in " ".join(str(row) for row in plan)
