"""The category tree: the default tree every teahub has, adding categories, and which teas age."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from teahub.bootstrap import initialize
from teahub.catalog import service
from teahub.catalog.models import Category
from teahub.db.uow import UnitOfWork
from tests.catalog.factories import assert_problem, written

CATEGORIES = "/api/v1/categories"


def by_code(client: TestClient) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in client.get(CATEGORIES, params={"limit": 500}).json()["items"]}


def test_a_fresh_teahub_has_the_default_category_tree(client: TestClient) -> None:
    tree = by_code(client)
    assert set(tree) == {"green", "yellow", "white", "oolong", "black", "dark", "puerh", "puerh_raw",
                         "puerh_ripe", "scented", "herbal", "teaware", "giftbox", "other"}
    assert tree["green"]["name"] == "绿茶"
    assert tree["green"]["name_en"] == "Green tea"
    assert tree["puerh"]["name"] == "普洱"
    assert tree["puerh_raw"]["parent"] == "puerh"
    assert tree["puerh_ripe"]["parent"] == "puerh"
    assert tree["green"]["parent"] is None
    assert {code for code, c in tree.items() if c["ages"]} == {"white", "dark", "puerh", "puerh_raw",
                                                              "puerh_ripe"}
    assert tree["puerh_raw"]["ages_own"] is None  # inherited


def test_default_categories_are_seeded_once(engine: Engine, uow: UnitOfWork) -> None:
    initialize(engine)
    initialize(engine)
    service.ensure_default_categories(uow)
    with uow.reading():
        assert uow.session.scalar(select(func.count()).select_from(Category)) == 14


def test_an_admin_adds_a_category_that_inherits_ages(client: TestClient) -> None:
    response = client.post(CATEGORIES, json={"code": "puerh_raw_gushu", "name": "古树生普",
                                             "name_en": "Ancient-tree raw pu-erh", "parent": "puerh_raw"})
    assert response.status_code == 201, response.text
    category = response.json()
    assert category["parent"] == "puerh_raw"
    assert category["ages"] is True
    assert category["ages_own"] is None
    assert by_code(client)["puerh_raw_gushu"] == category
    events = [e for e in client.get("/api/v1/events").json()["items"] if e["type"] == "category.created"]
    assert [e["payload"] for e in events] == [category]
    audit = client.get("/api/v1/audit", params={"entity_type": "category"}).json()["items"]
    assert [(a["action"], a["after"]) for a in audit] == [("category.created", category)]


def test_a_category_may_override_its_parents_ages(client: TestClient) -> None:
    client.post(CATEGORIES, json={"code": "dark_fresh", "name": "新制黑茶", "parent": "dark", "ages": False})
    assert by_code(client)["dark_fresh"]["ages"] is False


def test_category_errors_name_the_field_and_write_nothing(client: TestClient, client_as: Any) -> None:
    before = written(client)
    assert_problem(client.post(CATEGORIES, json={"code": "green", "name": "x"}), 409, "code")
    assert_problem(client.post(CATEGORIES, json={"code": "x", "name": "x", "parent": "nope"}), 422, "parent")
    assert_problem(client.post(CATEGORIES, json={"code": "Bad Code", "name": "x"}), 422, "code")
    client.post(CATEGORIES, json={"code": "lvl3", "name": "三级", "parent": "puerh_raw"})
    before = written(client)
    assert_problem(client.post(CATEGORIES, json={"code": "lvl4", "name": "四级", "parent": "lvl3"}), 422, "parent")
    clerk = client_as("clerk", ["S01"])
    assert clerk.get(CATEGORIES).status_code == 200
    assert clerk.post(CATEGORIES, json={"code": "y", "name": "y"}).status_code == 403
    assert written(client) == before


def test_product_ages_follow_the_nearest_category_that_says(client: TestClient, uow: UnitOfWork) -> None:
    client.post(CATEGORIES, json={"code": "gushu", "name": "古树", "parent": "puerh_raw"})
    for sku, category in (("A", "gushu"), ("B", "puerh_raw"), ("C", "green"), ("D", "teaware"), ("E", "white")):
        assert client.post("/api/v1/products", json={"sku": sku, "name": sku, "category": category,
                                                     "unit": "piece", "prices": {"list": 1}}).status_code == 201
    infos = service.get_products(uow, ["A", "B", "C", "D", "E"])
    assert {sku: info.ages for sku, info in infos.items()} == {"A": True, "B": True, "C": False, "D": False,
                                                               "E": True}
    assert infos["A"].category == "gushu"
