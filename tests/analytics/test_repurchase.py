"""When a customer's tea is likely finished: grams bought, their own rhythm, or 8 g a day; listed from the
nightly snapshot when there is a fresh one, else computed live, with the same answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from teahub.analytics import repurchase
from teahub.analytics.models import RepurchaseDueRow, Snapshot
from teahub.analytics.rules import local_date
from teahub.db.uow import UnitOfWork
from teahub.scheduling.registry import default_registry, load_tasks
from tests import factories as f
from tests.analytics.shop import ago, customer, sale, tea

NOW = datetime.now(UTC)
LIST = "/api/v1/reports/repurchase-due"


def at(days: float) -> datetime:
    return ago(days, NOW)


def due_on(bought_days_ago: float, days_of_tea: float) -> str:
    return local_date(at(bought_days_ago) + timedelta(days=days_of_tea)).isoformat()


def _arrange(client: TestClient) -> dict[str, dict[str, Any]]:
    f.location(client, "BJ01")
    tea(client, "LJ-250", form="can 250 g")
    tea(client, "LJ-L", unit="g", price=68000, price_basis=500, form="loose")
    tea(client, "CAKE", category="puerh_raw", form="cake 357 g")
    tea(client, "OOLONG-BOX", category="oolong", form="box")  # no weight given: 125 g for an oolong
    tea(client, "CUP", category="teaware")
    for sku, quantity in (("LJ-250", 50), ("LJ-L", 5000), ("CAKE", 5), ("OOLONG-BOX", 5), ("CUP", 5)):
        f.receive(client, sku, quantity)
    people = {name: customer(client, name, f"1381234400{i}")
              for i, name in enumerate(("steady", "once", "mixed", "ager", "lapsed"))}
    people["company"] = customer(client, "公司", "13812344009", kind="company")
    for days in (100, 70, 40):  # a can every 30 days
        sale(client, people["steady"], [("LJ-250", 1)], at=at(days))
    sale(client, people["once"], [("LJ-L", 200), ("CUP", 1)], at=at(20))
    sale(client, people["mixed"], [("LJ-250", 2)], at=at(50))  # 500 g, then 250 g 25 days later: 20 g a day
    sale(client, people["mixed"], [("LJ-L", 250)], at=at(25))
    sale(client, people["ager"], [("CAKE", 1)], at=at(10))
    sale(client, people["ager"], [("OOLONG-BOX", 2)], at=at(3))
    sale(client, people["lapsed"], [("LJ-L", 100)], at=at(60))  # finished 47.5 days ago: too long overdue
    sale(client, people["company"], [("LJ-250", 1)], at=at(25))  # a company gives its tea away
    return people


def _expected(people: dict[str, dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (people["mixed"]["id"], "LJ-250", "category", 500, 20.0, due_on(50, 500 / 20)),
        (people["mixed"]["id"], "LJ-L", "category", 250, 20.0, due_on(25, 250 / 20)),
        (people["steady"]["id"], "LJ-250", "tea", 250, 8.33, due_on(40, 30)),
        (people["once"]["id"], "LJ-L", "default", 200, 8.0, due_on(20, 200 / 8)),
    ]


def _rows(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["customer_id"], r["sku"], r["basis"], r["grams"], r["grams_per_day"], r["due_on"])
            for r in answer["items"]]


def _every_page(client: TestClient, limit: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = f.ok(client.get(LIST, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})}))
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


def _nightly_job(uow: UnitOfWork) -> dict[str, Any]:
    load_tasks(["analytics"])
    result = default_registry.jobs["analytics.repurchase_due"].run(uow)
    assert result is not None
    return result


def _age_snapshot(uow: UnitOfWork, by: timedelta) -> None:
    with uow:
        computed_at = uow.session.scalar(select(Snapshot.computed_at))
        assert computed_at is not None
        uow.session.execute(update(Snapshot).values(computed_at=computed_at - by))
        uow.commit()


def _snapshot_rows(uow: UnitOfWork) -> list[tuple[Any, ...]]:
    with uow.reading():
        r = RepurchaseDueRow
        return [tuple(row) for row in uow.session.execute(
            select(r.customer_id, r.product_id, r.last_day, r.grams, r.purchases, r.grams_per_day, r.basis,
                   r.due_day).order_by(r.customer_id, r.product_id))]


# -- the due days ------------------------------------------------------------------------------------------


def test_repurchase_due_lists_tea_finished_soon_or_lately(client: TestClient) -> None:
    people = _arrange(client)
    answer = f.ok(client.get(LIST, params={"within_days": 7, "overdue_days": 30}))
    assert _rows(answer) == _expected(people)
    assert answer["total"] == 4 and answer["next"] is None
    assert [r["days_left"] for r in answer["items"]][2:] == [
        (local_date(at(40) + timedelta(days=30)) - local_date(NOW)).days,
        (local_date(at(20) + timedelta(days=25)) - local_date(NOW)).days]
    assert answer["items"][0]["customer_name"] == "mixed"

    first = f.ok(client.get(LIST, params={"limit": 3}))
    assert first["next"] == "3" and len(first["items"]) == 3
    rest = f.ok(client.get(LIST, params={"limit": 3, "cursor": first["next"]}))
    assert [r["sku"] for r in rest["items"]] == ["LJ-L"] and rest["next"] is None


def test_a_customers_teas_and_when_they_run_out(client: TestClient) -> None:
    people = _arrange(client)
    ager = f.ok(client.get(f"{LIST}/customers/{people['ager']['id']}"))
    assert [(r["sku"], r["grams"], r["basis"], r["due_on"]) for r in ager["items"]] == [
        ("OOLONG-BOX", 250, "default", due_on(3, 250 / 8)),
        ("CAKE", 357, "default", due_on(10, 357 / 8)),
    ]
    steady = f.ok(client.get(f"{LIST}/customers/{people['steady']['id']}"))
    assert [(r["sku"], r["purchases"], r["basis"]) for r in steady["items"]] == [("LJ-250", 3, "tea")]
    once = f.ok(client.get(f"{LIST}/customers/{people['once']['id']}"))
    assert [r["sku"] for r in once["items"]] == ["LJ-L"]  # the cup is not drunk
    company = f.ok(client.get(f"{LIST}/customers/{people['company']['id']}"))
    assert company["items"] == []
    assert client.get(f"{LIST}/customers/999999").status_code == 404


def test_same_day_purchases_are_one_refunds_and_old_or_unpaid_orders_do_not_count(client: TestClient) -> None:
    f.location(client, "BJ01")
    tea(client, "LJ-250", form="can 250 g")
    tea(client, "LJ-L", unit="g", price=68000, price_basis=500, form="loose")
    f.receive(client, "LJ-250", 50)
    f.receive(client, "LJ-L", 5000)
    split = customer(client, "split", "13812345001")
    even = customer(client, "even", "13812345002")
    returns = customer(client, "returns", "13812345003")
    # Two cans 0.4 days apart are one purchase of 500 g; 250 g 20 days later: 25 g a day, due 10 days ago.
    for days in (40, 39.6, 20):
        sale(client, split, [("LJ-250", 1)], at=at(days))
    # Intervals of 20 and 30 days: 12.5 and 8.33 g a day, the median of two is their mean.
    for days in (70, 50, 20):
        sale(client, even, [("LJ-250", 1)], at=at(days))
    # 1000 g over a year ago is out of the history; 300 g less 100 g refunded; 100 g all refunded; 400 g unpaid.
    sale(client, returns, [("LJ-L", 1000)], at=at(380))
    partly = sale(client, returns, [("LJ-L", 300)], at=at(30))
    f.ok(client.post(f"/api/v1/orders/{partly['id']}/refunds", json={"lines": [{"sku": "LJ-L", "quantity": 100}]}),
         201)
    wholly = sale(client, returns, [("LJ-L", 100)], at=at(10))
    f.ok(client.post(f"/api/v1/orders/{wholly['id']}/refunds", json={"lines": [{"sku": "LJ-L", "quantity": 100}]}),
         201)
    unpaid = f.ok(f.web_order(client, [("LJ-L", 400)], location="BJ01", customer={"id": returns["id"]}), 201)
    assert unpaid["status"] not in ("paid", "allocated", "shipped", "completed")

    answer = f.ok(client.get(LIST, params={"within_days": 7, "overdue_days": 30}))
    rows = [(r["customer_id"], r["purchases"], r["basis"], r["grams"], r["grams_per_day"], r["due_on"])
            for r in answer["items"]]
    assert rows == [
        (split["id"], 2, "tea", 250, 25.0, due_on(20, 250 / 25)),
        (returns["id"], 1, "default", 200, 8.0, due_on(30, 200 / 8)),
        (even["id"], 3, "tea", 250, round((250 / 20 + 250 / 30) / 2, 2), due_on(20, 250 / ((250 / 20 + 250 / 30) / 2))),
    ]
    for person in (split, even, returns):  # a customer's own list gives the same due days
        own = f.ok(client.get(f"{LIST}/customers/{person['id']}"))
        assert [(r["due_at"], r["grams"]) for r in own["items"]] == \
            [(r["due_at"], r["grams"]) for r in answer["items"] if r["customer_id"] == person["id"]]


# -- the nightly snapshot ----------------------------------------------------------------------------------


def test_the_list_read_from_the_nightly_snapshot_is_the_live_list(client: TestClient, uow: UnitOfWork) -> None:
    people = _arrange(client)
    live = f.ok(client.get(LIST, params={"overdue_days": 60}))
    before = repurchase.repurchase_due(uow)
    assert before["computed_at"] == before["as_of"]  # no snapshot yet: computed live

    result = _nightly_job(uow)
    assert result["rows"] == 7  # every customer x tea but the company's and the cup, listed or not
    with uow.reading():
        computed_at, row_count = uow.session.execute(select(Snapshot.computed_at, Snapshot.row_count)).one()
    assert row_count == 7 and result["computed_at"] == computed_at.isoformat()
    read = repurchase.repurchase_due(uow, overdue_days=60)
    assert read["computed_at"] == computed_at and read["computed_at"] < read["as_of"]
    assert f.ok(client.get(LIST, params={"overdue_days": 60}))["items"] == live["items"]
    assert _every_page(client, 1, overdue_days=60) == live["items"]
    assert _rows(f.ok(client.get(LIST))) == _expected(people)
    assert f.ok(client.get(LIST, params={"within_days": 0, "overdue_days": 0}))["items"] == [
        r for r in live["items"] if r["days_left"] == 0]

    # Read from the snapshot indeed: a row taken out of it is not listed...
    with uow:
        uow.session.execute(delete(RepurchaseDueRow).where(RepurchaseDueRow.customer_id == people["steady"]["id"]))
        uow.commit()
    assert people["steady"]["id"] not in [r["customer_id"] for r in f.ok(client.get(LIST))["items"]]
    # ...until the snapshot is older than a day: then the list is computed live again.
    _age_snapshot(uow, timedelta(hours=26))
    assert _rows(f.ok(client.get(LIST))) == _expected(people)
    stale = repurchase.repurchase_due(uow)
    assert stale["computed_at"] == stale["as_of"]


def test_customers_who_ordered_after_the_snapshot_are_computed_live(client: TestClient, uow: UnitOfWork,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    people = _arrange(client)
    _nightly_job(uow)
    sale(client, people["steady"], [("LJ-250", 1)], at=at(0.01))  # bought again: not due for a month
    late = customer(client, "late", "13812344008")
    sale(client, late, [("LJ-L", 200)], at=at(21))  # an order entered after the night, of 21 days ago
    sale(client, people["lapsed"], [("LJ-L", 100)], at=at(12))  # a second purchase: 100 g in 48 days
    expected = [
        (people["mixed"]["id"], "LJ-250", "category", 500, 20.0, due_on(50, 500 / 20)),
        (people["mixed"]["id"], "LJ-L", "category", 250, 20.0, due_on(25, 250 / 20)),
        (late["id"], "LJ-L", "default", 200, 8.0, due_on(21, 200 / 8)),
        (people["once"]["id"], "LJ-L", "default", 200, 8.0, due_on(20, 200 / 8)),
    ]
    from_snapshot = f.ok(client.get(LIST))
    assert _rows(from_snapshot) == expected and from_snapshot["total"] == 4
    merged = repurchase.repurchase_due(uow)
    assert merged["computed_at"] < merged["as_of"]
    monkeypatch.setattr(repurchase, "MAX_ORDERS_SINCE", 2)  # more orders than that since: all computed live
    live = repurchase.repurchase_due(uow)
    assert live["computed_at"] == live["as_of"] and live["items"] == merged["items"]
    monkeypatch.undo()
    wide = _every_page(client, 2, within_days=60, overdue_days=60)
    assert {r["customer_id"] for r in wide} >= {people["steady"]["id"], people["lapsed"]["id"], late["id"]}
    _age_snapshot(uow, timedelta(days=2))
    assert f.ok(client.get(LIST))["items"] == from_snapshot["items"]
    assert _every_page(client, 500, within_days=60, overdue_days=60) == wide


def test_the_nightly_job_is_safe_to_repeat(client: TestClient, uow: UnitOfWork) -> None:
    people = _arrange(client)
    first = _nightly_job(uow)
    rows = _snapshot_rows(uow)
    assert _nightly_job(uow)["rows"] == first["rows"] == len(rows)
    assert _snapshot_rows(uow) == rows
    sale(client, people["company"], [("CAKE", 1)], at=at(1))  # a company's tea is never listed
    sale(client, people["ager"], [("LJ-L", 100)], at=at(1))
    again = _nightly_job(uow)
    assert again["rows"] == len(rows) + 1 and again["last_order_id"] > first["last_order_id"]
    with uow.reading():
        assert uow.session.scalar(select(func.count()).select_from(Snapshot)) == 1
        assert uow.session.scalar(select(func.count()).select_from(RepurchaseDueRow)) == len(rows) + 1


def test_the_care_rules_call_reads_the_same_list_either_way(client: TestClient, uow: UnitOfWork) -> None:
    people = _arrange(client)
    live = repurchase.repurchase_due(uow, within_days=7)
    _nightly_job(uow)
    snapshot = repurchase.repurchase_due(uow, within_days=7)
    assert [(d["customer_id"], d["sku"], d["due_on"]) for d in snapshot["items"]] == \
        [(d["customer_id"], d["sku"], d["due_on"]) for d in live["items"]]
    assert snapshot["total"] == live["total"] == 4 and snapshot["items"][2]["customer_id"] == people["steady"]["id"]
    # The care rules may run as of another moment: a snapshot of after it, or of more than a day before it, is
    # not used; the list is computed as of that moment.
    for moment in (NOW - timedelta(days=1), NOW + timedelta(days=2)):
        uow.clock = lambda moment=moment: moment  # type: ignore[misc]
        then = repurchase.repurchase_due(uow, within_days=7)
        assert then["computed_at"] == then["as_of"] == moment
    assert [(d["sku"], d["days_left"]) for d in then["items"]] == \
        [(d["sku"], d["days_left"] - 2) for d in live["items"]]


def test_ties_are_listed_by_customer_then_sku_on_every_page(client: TestClient, uow: UnitOfWork) -> None:
    f.location(client, "BJ01")
    for sku in ("ZHU-250", "AN-250"):  # created in the reverse of their order by sku
        tea(client, sku, form="can 250 g")
        f.receive(client, sku, 10)
    pair, solo = customer(client, "pair", "13812345011"), customer(client, "solo", "13812345012")
    # One purchase of each can (and of green tea): 250 g at 8 g a day, all due at the same moment.
    sale(client, pair, [("ZHU-250", 1), ("AN-250", 1)], at=at(26))
    sale(client, solo, [("AN-250", 1)], at=at(26))
    expected = [(pair["id"], "AN-250"), (pair["id"], "ZHU-250"), (solo["id"], "AN-250")]
    assert [(r["customer_id"], r["sku"]) for r in _every_page(client, 1)] == expected
    _nightly_job(uow)
    assert [(r["customer_id"], r["sku"]) for r in _every_page(client, 1)] == expected
    later = customer(client, "later", "13812345013")
    sale(client, later, [("ZHU-250", 1)], at=at(26))  # after the snapshot: merged into the snapshot's rows
    listed = _every_page(client, 1)
    assert [(r["customer_id"], r["sku"]) for r in listed] == [*expected, (later["id"], "ZHU-250")]
    assert len({r["due_at"] for r in listed}) == 1
