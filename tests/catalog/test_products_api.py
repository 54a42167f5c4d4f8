"""Products through the HTTP API: create, read, list and filter, change; events, audit and versions."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.catalog.factories import PRODUCTS, create, longjing_can, loose_tea, teaware, written


def events_of(client: TestClient, product_id: int) -> list[dict[str, Any]]:
    items = client.get("/api/v1/events", params={"limit": 1000}).json()["items"]
    return [e for e in items if e["aggregate_type"] == "product" and e["aggregate_id"] == str(product_id)]


def audit_of(client: TestClient, product_id: int) -> list[dict[str, Any]]:
    params = {"entity_type": "product", "entity_id": str(product_id)}
    return client.get("/api/v1/audit", params=params).json()["items"]  # type: ignore[no-any-return]


# -- create and read --------------------------------------------------------------------------------
def test_create_product_in_the_integrator_shape_answers_the_product(client: TestClient) -> None:
    response = client.post(PRODUCTS, json=longjing_can())
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/products/LJ-MQ26-250"
    product = response.json()
    assert product["sku"] == "LJ-MQ26-250"
    assert product["category"] == "green"
    assert product["unit"] == "piece"
    assert product["price_basis"] == 1
    assert product["prices"] == {"list": 68800, "member": 62800, "vip": None, "special": None,
                                 "special_from": None, "special_until": None}
    assert product["tea"]["origin"] == "浙江杭州西湖"
    assert product["tea"]["harvest_year"] == 2026
    assert product["tea"]["taste_notes"] == []
    assert product["is_gift_box"] is False
    assert product["components"] == []
    assert product["active"] is True
    assert product["version"] == 1
    assert product["created_at"].endswith("+00:00")
    assert client.get(f"{PRODUCTS}/LJ-MQ26-250").json() == product


def test_loose_tea_defaults_to_a_price_per_jin(client: TestClient) -> None:
    body = loose_tea()
    del body["price_basis"]
    product = create(client, body)
    assert product["unit"] == "g"
    assert product["price_basis"] == 500
    assert product["tea"]["brewing"] == {"water_c": 100, "grams_per_100ml": 7, "steeps": 7}
    assert product["tea"]["taste_notes"] == ["兰花香", "音韵"]


def test_loose_tea_may_be_priced_per_liang_or_kg(client: TestClient) -> None:
    assert create(client, loose_tea(sku="A-50", price_basis=50))["price_basis"] == 50
    assert create(client, loose_tea(sku="A-1000", price_basis=1000))["price_basis"] == 1000


def test_teaware_has_no_tea_attributes(client: TestClient) -> None:
    product = create(client, teaware())
    assert product["tea"] is None
    assert product["name_en"] == "Gaiwan"


def test_special_price_times_are_kept_in_utc(client: TestClient) -> None:
    prices = {"list": 68800, "special": 59900, "special_from": "2026-09-20T00:00:00+08:00",
              "special_until": "2026-10-08T00:00:00+08:00"}
    product = create(client, longjing_can(prices=prices))
    assert product["prices"]["special"] == 59900
    assert product["prices"]["special_from"] == "2026-09-19T16:00:00+00:00"
    assert product["prices"]["special_until"] == "2026-10-07T16:00:00+00:00"


def test_unknown_product_is_404_naming_the_sku(client: TestClient) -> None:
    response = client.get(f"{PRODUCTS}/NOPE")
    assert response.status_code == 404
    assert response.json()["field"] == "sku"


def test_every_role_reads_products_but_only_admins_create_them(client: TestClient, client_as: Any) -> None:
    create(client, longjing_can())
    clerk = client_as("clerk", ["S01"])
    assert clerk.get(PRODUCTS).json()["items"][0]["sku"] == "LJ-MQ26-250"
    assert clerk.get(f"{PRODUCTS}/LJ-MQ26-250").status_code == 200
    before = written(client)
    for role, stores in (("clerk", ["S01"]), ("manager", ["S01"]), ("integration", [])):
        other = client_as(role, stores)
        response = other.post(PRODUCTS, json=teaware())
        assert response.status_code == 403, role
        assert response.headers["content-type"].startswith("application/problem+json")
        assert other.patch(f"{PRODUCTS}/LJ-MQ26-250", json={"name": "x"}).status_code == 403
    assert written(client) == before


def test_anonymous_callers_cannot_read_products(anonymous: TestClient) -> None:
    assert anonymous.get(PRODUCTS).status_code == 401


# -- list and filter --------------------------------------------------------------------------------
def test_products_are_listed_in_pages(client: TestClient) -> None:
    for i in range(5):
        create(client, teaware(sku=f"CUP-{i}"))
    first = client.get(PRODUCTS, params={"limit": 2}).json()
    assert [p["sku"] for p in first["items"]] == ["CUP-0", "CUP-1"]
    second = client.get(PRODUCTS, params={"limit": 2, "cursor": first["next"]}).json()
    assert [p["sku"] for p in second["items"]] == ["CUP-2", "CUP-3"]
    last = client.get(PRODUCTS, params={"limit": 2, "cursor": second["next"]}).json()
    assert [p["sku"] for p in last["items"]] == ["CUP-4"]
    assert last["next"] is None


def test_list_limit_is_between_1_and_500(client: TestClient) -> None:
    assert client.get(PRODUCTS, params={"limit": 0}).status_code == 422
    assert client.get(PRODUCTS, params={"limit": 501}).status_code == 422
    assert client.get(PRODUCTS, params={"limit": 500}).status_code == 200
    assert client.get(PRODUCTS, params={"cursor": "abc"}).json()["field"] == "cursor"


def test_category_filter_includes_sub_categories(client: TestClient) -> None:
    create(client, longjing_can())
    create(client, teaware(sku="RAW-2019", name="冰岛生普 2019", category="puerh_raw"))
    create(client, teaware(sku="RIPE-2015", name="宫廷熟普 2015", category="puerh_ripe"))
    create(client, teaware(sku="PUERH-MIX", name="普洱拼配", category="puerh"))

    def skus(**params: Any) -> set[str]:
        return {p["sku"] for p in client.get(PRODUCTS, params=params).json()["items"]}

    assert skus(category="puerh") == {"RAW-2019", "RIPE-2015", "PUERH-MIX"}
    assert skus(category="puerh_raw") == {"RAW-2019"}
    assert skus(category="green") == {"LJ-MQ26-250"}
    assert skus(category="white") == set()
    assert client.get(PRODUCTS, params={"category": "coffee"}).json()["field"] == "category"


def test_search_matches_sku_name_and_english_name_ignoring_case(client: TestClient) -> None:
    create(client, longjing_can())
    create(client, loose_tea())
    create(client, teaware(sku="GW_100", name="白瓷盖碗 100% 手工"))

    def skus(q: str) -> set[str]:
        return {p["sku"] for p in client.get(PRODUCTS, params={"q": q}).json()["items"]}

    assert skus("lj-mq") == {"LJ-MQ26-250"}
    assert skus("龙井") == {"LJ-MQ26-250"}
    assert skus("TIEGUANYIN") == {"TGY-AX-QX-L"}
    assert skus("gaiwan") == {"GW_100"}
    assert skus("_") == {"GW_100"}  # wildcards in the query are taken literally
    assert skus("%") == {"GW_100"}
    assert skus("普洱") == set()


def test_active_filter(client: TestClient) -> None:
    create(client, longjing_can())
    create(client, teaware(active=False))
    active = client.get(PRODUCTS, params={"active": "true"}).json()["items"]
    inactive = client.get(PRODUCTS, params={"active": "false"}).json()["items"]
    assert [p["sku"] for p in active] == ["LJ-MQ26-250"]
    assert [p["sku"] for p in inactive] == ["GW-JDZ-150"]
    assert len(client.get(PRODUCTS).json()["items"]) == 2


# -- change -----------------------------------------------------------------------------------------
def test_patch_changes_only_the_fields_given_and_bumps_the_version(client: TestClient) -> None:
    created = create(client, longjing_can())
    response = client.patch(f"{PRODUCTS}/LJ-MQ26-250",
                            json={"name_en": "West Lake Longjing", "prices": {"vip": 58800},
                                  "tea": {"taste_notes": ["豆香", "回甘"]}})
    assert response.status_code == 200, response.text
    product = response.json()
    assert product["name_en"] == "West Lake Longjing"
    assert product["name"] == created["name"]
    assert product["prices"] == {**created["prices"], "vip": 58800}
    assert product["tea"] == {**created["tea"], "taste_notes": ["豆香", "回甘"]}
    assert product["version"] == 2
    assert product["updated_at"] >= created["updated_at"]
    assert product["created_at"] == created["created_at"]
    assert client.get(f"{PRODUCTS}/LJ-MQ26-250").json() == product
    assert client.patch(f"{PRODUCTS}/LJ-MQ26-250", json={"active": False}).json()["version"] == 3


def test_patch_with_null_clears_optional_fields(client: TestClient) -> None:
    create(client, longjing_can(prices={"list": 68800, "member": 62800, "special": 60000,
                                        "special_from": "2026-09-01T00:00:00Z"}))
    product = client.patch(f"{PRODUCTS}/LJ-MQ26-250",
                           json={"prices": {"member": None, "special": None}, "tea": None}).json()
    assert product["prices"] == {"list": 68800, "member": None, "vip": None, "special": None,
                                 "special_from": None, "special_until": None}
    assert product["tea"] is None


def test_changing_unit_resets_the_price_basis_to_the_new_units_default(client: TestClient) -> None:
    create(client, loose_tea(price_basis=50))
    assert client.patch(f"{PRODUCTS}/TGY-AX-QX-L", json={"name": "铁观音"}).json()["price_basis"] == 50
    assert client.patch(f"{PRODUCTS}/TGY-AX-QX-L", json={"unit": "piece"}).json()["price_basis"] == 1
    assert client.patch(f"{PRODUCTS}/TGY-AX-QX-L",
                        json={"unit": "g", "price_basis": 1000}).json()["price_basis"] == 1000


def test_patch_moves_a_product_to_another_category(client: TestClient) -> None:
    create(client, teaware(sku="RAW-2019", category="puerh"))
    assert client.patch(f"{PRODUCTS}/RAW-2019", json={"category": "puerh_raw"}).json()["category"] == "puerh_raw"


def test_a_patch_that_changes_nothing_records_nothing(client: TestClient) -> None:
    product = create(client, longjing_can())
    before = written(client)
    response = client.patch(f"{PRODUCTS}/LJ-MQ26-250",
                            json={"name": product["name"], "prices": {"list": 68800}, "tea": {"grade": "特级"}})
    assert response.status_code == 200
    assert response.json() == product
    assert written(client) == before


def test_patch_of_unknown_product_is_404(client: TestClient) -> None:
    response = client.patch(f"{PRODUCTS}/NOPE", json={"name": "x"})
    assert response.status_code == 404
    assert response.json()["field"] == "sku"


def test_the_sku_cannot_be_changed(client: TestClient) -> None:
    create(client, longjing_can())
    response = client.patch(f"{PRODUCTS}/LJ-MQ26-250", json={"sku": "OTHER"})
    assert response.status_code == 422
    assert response.json()["field"] == "sku"
    assert client.get(f"{PRODUCTS}/OTHER").status_code == 404


# -- events and audit -------------------------------------------------------------------------------
def test_create_records_a_product_created_event_and_audit_entry(client: TestClient) -> None:
    product = create(client, longjing_can())
    [event] = events_of(client, product["id"])
    assert event["type"] == "product.created"
    assert event["version"] == 1
    assert event["payload"] == product
    [entry] = audit_of(client, product["id"])
    assert entry["action"] == "product.created"
    assert entry["actor"] == "user:root"
    assert entry["before"] is None
    assert entry["after"] == product


def test_each_change_records_a_product_updated_event_with_the_next_version(client: TestClient) -> None:
    created = create(client, longjing_can())
    first = client.patch(f"{PRODUCTS}/LJ-MQ26-250", json={"prices": {"list": 69800}}).json()
    second = client.patch(f"{PRODUCTS}/LJ-MQ26-250", json={"active": False}).json()
    events = events_of(client, created["id"])
    assert [(e["type"], e["version"]) for e in events] == [
        ("product.created", 1), ("product.updated", 2), ("product.updated", 3)]
    assert events[1]["payload"] == first
    assert events[2]["payload"] == second
    entries = audit_of(client, created["id"])
    assert [e["action"] for e in entries] == ["product.created", "product.updated", "product.updated"]
    assert entries[1]["before"] == created
    assert entries[1]["after"] == first
    assert entries[2]["before"] == first
    assert entries[2]["after"] == second
