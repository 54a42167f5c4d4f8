"""Gift boxes 礼盒: a bundle of other products, stored as its composition."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.catalog.factories import PRODUCTS, assert_problem, create, longjing_can, loose_tea, teaware, written


def mid_autumn_box(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": "BOX-MA-2026", "name": "中秋礼盒 龙井·铁观音·盖碗", "category": "giftbox", "unit": "piece",
        "prices": {"list": 168800},
        "components": [{"sku": "LJ-MQ26-250", "quantity": 1}, {"sku": "TGY-AX-QX-L", "quantity": 250},
                       {"sku": "GW-JDZ-150", "quantity": 1}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def parts(client: TestClient) -> None:
    create(client, longjing_can())
    create(client, loose_tea())
    create(client, teaware())
    create(client, teaware(sku="OLD-CUP", active=False))


def test_a_product_with_components_is_a_gift_box(client: TestClient, parts: None) -> None:
    box = create(client, mid_autumn_box())
    assert box["is_gift_box"] is True
    assert box["unit"] == "piece"
    assert box["price_basis"] == 1
    assert box["components"] == [
        {"sku": "GW-JDZ-150", "name": "景德镇白瓷盖碗", "quantity": 1},
        {"sku": "LJ-MQ26-250", "name": "西湖龙井 明前特级 250g", "quantity": 1},
        {"sku": "TGY-AX-QX-L", "name": "安溪铁观音 清香型", "quantity": 250},
    ]
    assert client.get(f"{PRODUCTS}/BOX-MA-2026").json() == box


@pytest.mark.parametrize(
    ("components", "field"),
    [
        ([{"sku": "NOPE", "quantity": 1}], "components.0.sku"),
        ([{"sku": "LJ-MQ26-250", "quantity": 1}, {"sku": "OLD-CUP", "quantity": 1}], "components.1.sku"),
        ([{"sku": "LJ-MQ26-250", "quantity": 0}], "components.0.quantity"),
        ([{"sku": "LJ-MQ26-250", "quantity": -1}], "components.0.quantity"),
        ([{"sku": "LJ-MQ26-250", "quantity": 1}, {"sku": "LJ-MQ26-250", "quantity": 2}], "components.1.sku"),
        ([{"sku": "BOX-MA-2026", "quantity": 1}], "components.0.sku"),  # itself
        ([{"sku": "LJ-MQ26-250"}], "components.0.quantity"),
    ],
)
def test_invalid_composition_is_refused_and_writes_nothing(
        client: TestClient, parts: None, components: list[dict[str, Any]], field: str) -> None:
    before = written(client)
    assert_problem(client.post(PRODUCTS, json=mid_autumn_box(components=components)), 422, field)
    assert written(client) == before


def test_a_gift_box_cannot_hold_another_gift_box(client: TestClient, parts: None) -> None:
    create(client, mid_autumn_box())
    before = written(client)
    body = mid_autumn_box(sku="BOX-BIG", components=[{"sku": "BOX-MA-2026", "quantity": 2}])
    assert_problem(client.post(PRODUCTS, json=body), 422, "components.0.sku")
    assert written(client) == before


@pytest.mark.parametrize(("change", "field"), [({"unit": "g"}, "unit"), ({"price_basis": 500}, "price_basis")])
def test_a_gift_box_is_sold_by_the_piece(client: TestClient, parts: None, change: dict[str, Any],
                                         field: str) -> None:
    before = written(client)
    assert_problem(client.post(PRODUCTS, json=mid_autumn_box(**change)), 422, field)
    assert written(client) == before
    create(client, mid_autumn_box())
    before = written(client)
    assert_problem(client.patch(f"{PRODUCTS}/BOX-MA-2026", json=change), 422, field)
    assert written(client) == before


def test_patch_replaces_the_composition_and_bumps_the_version(client: TestClient, parts: None) -> None:
    create(client, mid_autumn_box())
    response = client.patch(f"{PRODUCTS}/BOX-MA-2026", json={"components": [
        {"sku": "LJ-MQ26-250", "quantity": 2}, {"sku": "TGY-AX-QX-L", "quantity": 250}]})
    assert response.status_code == 200, response.text
    box = response.json()
    assert [(c["sku"], c["quantity"]) for c in box["components"]] == [("LJ-MQ26-250", 2), ("TGY-AX-QX-L", 250)]
    assert box["version"] == 2
    assert client.get(f"{PRODUCTS}/BOX-MA-2026").json() == box
    events = [e for e in client.get("/api/v1/events").json()["items"] if e["aggregate_id"] == str(box["id"])]
    assert events[-1]["type"] == "product.updated"
    assert events[-1]["payload"]["components"] == box["components"]


def test_patch_with_the_same_composition_in_another_order_changes_nothing(client: TestClient, parts: None) -> None:
    box = create(client, mid_autumn_box())
    before = written(client)
    reordered = list(reversed(mid_autumn_box()["components"]))
    assert client.patch(f"{PRODUCTS}/BOX-MA-2026", json={"components": reordered}).json() == box
    assert written(client) == before


def test_a_gift_box_keeps_at_least_one_component(client: TestClient, parts: None) -> None:
    create(client, mid_autumn_box())
    before = written(client)
    assert_problem(client.patch(f"{PRODUCTS}/BOX-MA-2026", json={"components": []}), 422, "components")
    assert_problem(client.patch(f"{PRODUCTS}/BOX-MA-2026", json={"components": None}), 422, "components")
    assert written(client) == before


def test_a_refused_composition_patch_changes_nothing(client: TestClient, parts: None) -> None:
    box = create(client, mid_autumn_box())
    components = [{"sku": "LJ-MQ26-250", "quantity": 1}, {"sku": "OLD-CUP", "quantity": 1}]
    response = client.patch(f"{PRODUCTS}/BOX-MA-2026", json={"prices": {"list": 1}, "components": components})
    assert_problem(response, 422, "components.1.sku")
    assert client.get(f"{PRODUCTS}/BOX-MA-2026").json() == box


def test_gift_boxes_are_listed_with_their_components(client: TestClient, parts: None) -> None:
    create(client, mid_autumn_box())
    [box] = client.get(PRODUCTS, params={"category": "giftbox"}).json()["items"]
    assert len(box["components"]) == 3
