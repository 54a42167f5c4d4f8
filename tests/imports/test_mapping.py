"""From a row of text to the capabilities' input schemas (no database)."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from pydantic import ValidationError

from teahub.catalog.schemas import ProductIn
from teahub.customers.schemas import CustomerIn
from teahub.imports.mapping import KINDS, CellError
from teahub.inventory.schemas import ReceiptIn
from tests.imports import CATALOG_CSV as FIXTURE

FIXTURE_COLUMNS = ["sku", "name_zh", "name_en", "category", "origin", "cultivar", "grade", "season",
                   "harvest_year", "form", "unit", "price_fen", "price_basis", "shelf_life_days", "taste_notes"]
products, customers, stock = KINDS["products"], KINDS["customers"], KINDS["stock"]


def fixture_rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_fixture_row_maps_to_a_product() -> None:
    rows = fixture_rows()
    parsed = [products.parse(row) for row in rows]
    assert len(parsed) == 52
    first = parsed[0].model_dump(exclude_none=True)
    assert first["sku"] == "LJ-XH-MQ-250"
    assert first["name"] == "西湖龙井 明前特级"
    assert first["prices"] == {"list": 128000}
    assert first["price_basis"] == 1
    assert first["tea"]["taste_notes"] == ["豆香", "鲜爽", "回甘"]
    assert first["tea"]["harvest_year"] == 2026
    assert first["tea"]["shelf_life_days"] == 540


def test_plain_product_row_with_price_list() -> None:
    row = {"sku": "LJ-1", "name": "龙井", "category": "Green", "unit": "G", "price_basis": "500",
           "list_price": "68000", "member_price": "62000", "vip_price": "", "origin": "", "grade": "",
           "components": "", "active": "no"}
    product = products.parse(row)
    assert isinstance(product, ProductIn)
    assert product.category == "green" and product.unit == "g"
    assert product.model_dump(include={"prices"}, exclude_none=True) == {"prices": {"list": 68000, "member": 62000}}
    assert product.tea is None
    assert product.active is False


def test_components_name_skus_and_quantities() -> None:
    data = products.data_of({"components": "LJ-XH-MQ-250:2 | GW-JDZ | JJM-WY-50*3"})
    assert data["components"] == [{"sku": "LJ-XH-MQ-250", "quantity": 2}, {"sku": "GW-JDZ", "quantity": 1},
                                  {"sku": "JJM-WY-50", "quantity": 3}]


@pytest.mark.parametrize(("row", "column"), [
    ({"price_fen": "12.5"}, "price_fen"),
    ({"list_price": "¥12"}, "list_price"),
    ({"harvest_year": "2026年"}, "harvest_year"),
    ({"active": "maybe"}, "active"),
    ({"components": "A:x"}, "components"),
])
def test_unreadable_cells_name_their_column(row: dict[str, str], column: str) -> None:
    with pytest.raises(CellError) as caught:
        products.data_of(row)
    assert caught.value.column == column


def test_whole_numbers_written_as_decimals_are_accepted() -> None:
    assert products.data_of({"price_fen": "128000.00"})["prices"] == {"list": 128000}


def test_schema_errors_point_back_to_the_file_columns() -> None:
    row = {"sku": "A", "name_zh": "", "category": "green", "unit": "kg", "price_fen": "", "harvest_year": "1066"}
    with pytest.raises(ValidationError) as caught:
        products.parse(row)
    columns = list(row)
    fields = {products.column_for(".".join(map(str, e["loc"])), columns) for e in caught.value.errors()}
    assert fields == {"name_zh", "unit", "price_fen", "harvest_year"}


def test_column_for_walks_up_nested_fields() -> None:
    assert products.column_for("prices.list", ["list_price"]) == "list_price"
    assert products.column_for("prices.list", FIXTURE_COLUMNS) == "price_fen"
    assert products.column_for("components.0.sku", ["components"]) == "components"
    assert products.column_for("tea.taste_notes.3", FIXTURE_COLUMNS) == "taste_notes"
    assert products.column_for("something_else", FIXTURE_COLUMNS) == "something_else"
    assert products.column_for(None, FIXTURE_COLUMNS) == ""


def test_required_columns_accept_either_format() -> None:
    assert products.missing_columns(FIXTURE_COLUMNS) == []
    assert products.missing_columns(["sku", "name", "category", "unit", "list_price"]) == []
    assert products.missing_columns(["sku", "name", "unit"]) == ["category", "list_price or price_fen or price"]
    assert customers.missing_columns(["phone"]) == []
    assert customers.missing_columns(["city"]) == ["name or phone or email"]
    assert stock.missing_columns(["sku", "location", "quantity"]) == ["batch_code", "unit_cost"]


def test_customer_row_with_identities_and_b2b_terms() -> None:
    row = {"name": "杭州茶业有限公司", "phone": "13812345678", "email": "", "kind": "Company",
           "company_name": "杭州茶业有限公司", "credit_limit": "5000000", "payment_terms": "monthly",
           "birthday": "", "tier": "VIP", "taobao": "tb_buyer_1"}
    customer = customers.parse(row)
    assert isinstance(customer, CustomerIn)
    assert customer.kind == "company" and customer.tier == "vip"
    assert customer.credit_limit == 5000000
    assert [i.model_dump() for i in customer.identities] == [{"kind": "taobao", "value": "tb_buyer_1"}]


def test_stock_row_dates_in_common_spellings() -> None:
    row = {"location": "WH01", "sku": "A", "batch_code": "B1", "quantity": "5000", "unit_cost": "60",
           "produced_on": "2026/04/01", "expires_on": "20271001", "supplier": "西湖茶园"}
    receipt = stock.parse(row)
    assert isinstance(receipt, ReceiptIn)
    assert receipt.produced_on == date(2026, 4, 1)
    assert receipt.expires_on == date(2027, 10, 1)
    with pytest.raises(CellError, match="not a date"):
        stock.parse({**row, "expires_on": "next year"})
