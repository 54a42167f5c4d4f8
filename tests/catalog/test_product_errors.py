"""Refused product requests: problem+json naming the offending field, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.catalog.factories import PRODUCTS, assert_problem, create, longjing_can, loose_tea, written


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (longjing_can(category="coffee"), "category"),
        (longjing_can(prices={"member": 62800}), "prices.list"),
        (longjing_can(prices={"list": -1}), "prices.list"),
        (longjing_can(prices={"list": 2_000_000_000}), "prices.list"),
        (longjing_can(prices={"list": 100, "member": 10.5}), "prices.member"),
        (longjing_can(prices={"list": "68800"}), "prices.list"),  # money is an integer of fen, not text
        (longjing_can(prices={"list": 688.0}), "prices.list"),
        (loose_tea(price_basis=100), "price_basis"),
        (loose_tea(price_basis=1), "price_basis"),
        (longjing_can(price_basis=500), "price_basis"),
        (longjing_can(unit="kg"), "unit"),
        (longjing_can(sku=""), "sku"),
        (longjing_can(sku="LJ MQ"), "sku"),
        (longjing_can(sku="X" * 65), "sku"),
        (longjing_can(name=""), "name"),
        (longjing_can(prices={"list": 100, "special": 80, "special_from": "2026-10-01T00:00:00Z",
                              "special_until": "2026-10-01T00:00:00Z"}), "prices.special_until"),
        (longjing_can(prices={"list": 100, "special": 80, "special_from": "2026-10-02T00:00:00Z",
                              "special_until": "2026-10-01T00:00:00Z"}), "prices.special_until"),
        (longjing_can(prices={"list": 100, "special_from": "2026-10-01T00:00:00Z"}), "prices.special"),
        (longjing_can(prices={"list": 100, "special": 80, "special_from": "2026-10-01T00:00:00"}),
         "prices.special_from"),
        (longjing_can(tea={"harvest_year": 1066}), "tea.harvest_year"),
        (longjing_can(colour="green"), "colour"),
        (longjing_can(name="龙井\x00"), "name"),  # PostgreSQL cannot store NUL: refused on every database
        (longjing_can(name="龙井\n250g"), "name"),
        (longjing_can(tea={"taste_notes": ["豆香", ""]}), "tea.taste_notes.1"),
        (longjing_can(tea={"storage": "密封\x07避光"}), "tea.storage"),
    ],
)
def test_invalid_product_is_refused_naming_the_field_and_writes_nothing(
        client: TestClient, body: dict[str, Any], field: str) -> None:
    before = written(client)
    assert_problem(client.post(PRODUCTS, json=body), 422, field)
    assert written(client) == before


def test_product_without_prices_is_refused(client: TestClient) -> None:
    body = longjing_can()
    del body["prices"]
    assert_problem(client.post(PRODUCTS, json=body), 422, "prices")


def test_duplicate_sku_is_a_conflict_and_writes_nothing(client: TestClient) -> None:
    first = create(client, longjing_can())
    before = written(client)
    body = assert_problem(client.post(PRODUCTS, json=longjing_can(name="另一个")), 409, "sku")
    assert body["type"] == "urn:teahub:problem:conflict"
    assert written(client) == before
    assert client.get(f"{PRODUCTS}/LJ-MQ26-250").json() == first


@pytest.mark.parametrize(
    ("patch", "status", "field"),
    [
        ({"category": "coffee"}, 422, "category"),
        ({"prices": {"list": None}}, 422, "prices.list"),
        ({"prices": None}, 422, "prices.list"),
        ({"prices": {"list": -5}}, 422, "prices.list"),
        ({"name": None}, 422, "name"),
        ({"unit": None}, 422, "unit"),
        ({"active": None}, 422, "active"),
        ({"category": None}, 422, "category"),
        ({"price_basis": 250}, 422, "price_basis"),
        ({"price_basis": 500}, 422, "price_basis"),  # a piece is priced per 1
        ({"unit": "g", "price_basis": 1}, 422, "price_basis"),
        ({"prices": {"special_until": "2026-01-01T00:00:00Z"}}, 422, "prices.special"),
        ({"prices": {"special": 50000, "special_from": "2026-10-02T00:00:00Z",
                     "special_until": "2026-10-01T00:00:00Z"}}, 422, "prices.special_until"),
        ({"components": [{"sku": "LJ-MQ26-250", "quantity": 1}]}, 422, "components"),
    ],
)
def test_invalid_patch_is_refused_naming_the_field_and_changes_nothing(
        client: TestClient, patch: dict[str, Any], status: int, field: str) -> None:
    create(client, longjing_can(sku="OTHER"))
    create(client, longjing_can())
    before = written(client)
    assert_problem(client.patch(f"{PRODUCTS}/LJ-MQ26-250", json=patch), status, field)
    assert written(client) == before


def test_a_refused_patch_leaves_the_special_window_as_it_was(client: TestClient) -> None:
    prices = {"list": 68800, "special": 60000, "special_from": "2026-10-01T00:00:00Z",
              "special_until": "2026-10-08T00:00:00Z"}
    product = create(client, longjing_can(prices=prices))
    assert_problem(client.patch(f"{PRODUCTS}/LJ-MQ26-250", json={"prices": {"special_until": "2026-09-30T00:00:00Z"}}),
                   422, "prices.special_until")
    assert client.get(f"{PRODUCTS}/LJ-MQ26-250").json() == product


def test_text_with_nul_in_a_lookup_is_refused_instead_of_failing(client: TestClient) -> None:
    create(client, longjing_can())
    assert_problem(client.get(f"{PRODUCTS}/LJ-MQ26-250%00"), 422, "path")
    assert_problem(client.patch(f"{PRODUCTS}/LJ-MQ26-250%00", json={"name": "x"}), 422, "path")
    assert_problem(client.get(PRODUCTS, params={"q": "LJ\x00"}), 422, "q")


def test_long_texts_may_hold_line_breaks(client: TestClient) -> None:
    tea = {"processing": "杀青\n揉捻\n干燥", "storage": "密封\t避光"}
    assert create(client, longjing_can(tea=tea))["tea"]["processing"] == "杀青\n揉捻\n干燥"
