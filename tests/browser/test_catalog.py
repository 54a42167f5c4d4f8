"""The catalog in the browser: finding a tea, its page with prices in ¥ and stock by location, and an admin changing
its prices (a clerk only reads them)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Console, api, login, shot


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def loose_tea_in_stock(client: httpx.Client) -> str:
    """A loose tea of this test's own (priced per 斤), 3 斤 at the warehouse and 1 斤 at BJ01."""
    tag = uuid.uuid4().hex[:6].upper()
    sku = f"T-MJ-{tag}"
    ok(client.post("/api/v1/products", json={
        "sku": sku, "name": f"信阳毛尖 测试{tag}", "category": "green", "unit": "g", "price_basis": 500,
        "prices": {"list": 42000, "member": 37800, "vip": 35700},
        "tea": {"origin": "河南信阳", "cultivar": "信阳群体种", "grade": "一级", "harvest_year": 2026, "season": "雨前",
                "taste_notes": ["清香", "鲜爽"], "shelf_life_days": 540}}), 201)
    for location, grams in (("WH01", 1500), ("BJ01", 500)):
        ok(client.post("/api/v1/stock/receipts", json={
            "location": location, "sku": sku, "batch_code": f"{location}-{tag}", "quantity": grams, "unit_cost": 40,
            "produced_on": "2026-04-10", "supplier": "信阳浉河港茶场"}), 201)
    return sku


def test_boss_finds_a_tea_and_sees_its_prices_and_stock_by_location(page: Any, live_server: str) -> None:
    sku = loose_tea_in_stock(api(live_server))
    login(page, "boss")
    page.goto("/products")
    expect(page.locator("h1")).to_have_text("商品")
    assert page.locator("table.products tbody tr").count() >= 20  # the demo catalog
    shot(page, "products")
    page.fill("input[name=q]", sku)  # the list narrows as one types
    expect(page.locator("table.products tbody tr")).to_have_count(1)
    page.wait_for_url(re.compile(rf"/products\?q={sku}"))
    row = page.locator("table.products tbody tr").first
    assert "¥420.00" in row.inner_text() and "每斤" in row.inner_text() and "河南信阳" in row.inner_text()

    page.click(f"table.products a:has-text('{sku}')")
    page.wait_for_url(f"**/products/{sku}")
    expect(page.locator("h1")).to_contain_text("信阳毛尖")
    prices = page.locator("#prices")
    assert prices.locator("[data-price=list]").inner_text() == "¥420.00"
    assert prices.locator("[data-price=member]").inner_text() == "¥378.00"
    assert prices.locator("[data-price=vip]").inner_text() == "¥357.00"
    assert "每斤（500 克）" in prices.inner_text()
    assert "清香" in page.locator("dl.facts").inner_text()
    stock = page.locator("table.stock-by-location")
    assert "1,500 g (3 斤)" in stock.locator("tr[data-location=WH01]").inner_text()
    assert "500 g (1 斤)" in stock.locator("tr[data-location=BJ01]").inner_text()
    assert "信阳浉河港茶场" in page.locator("table.batches").inner_text()
    shot(page, "product")


def test_category_filter_keeps_only_that_category(page: Any) -> None:
    login(page, "boss")
    page.goto("/products")
    page.select_option("select[name=category]", "puerh")
    page.wait_for_url(re.compile(r"category=puerh"))
    categories = page.locator("table.products tbody tr td:nth-child(3)").all_inner_texts()
    assert categories and all(c in ("普洱", "生普", "熟普") for c in categories)


def test_admin_changes_prices_and_a_clerk_only_reads_them(page: Any, live_server: str, console: Console) -> None:
    sku = loose_tea_in_stock(api(live_server))
    login(page, "boss")
    page.goto(f"/products/{sku}")
    page.fill("input[name=list_price]", "460")
    page.fill("input[name=member_price]", "415.50")
    page.fill("input[name=vip_price]", "")
    page.click("#prices button[type=submit]")
    expect(page.locator("#prices .notice")).to_have_text("价格已保存。")
    assert page.locator("#prices [data-price=list]").inner_text() == "¥460.00"
    assert page.locator("#prices [data-price=vip]").inner_text() == "—"
    prices = ok(api(live_server).get(f"/api/v1/products/{sku}"))["prices"]
    assert (prices["list"], prices["member"], prices["vip"]) == (46000, 41550, None)

    console.allow(r"status of 422")  # the refused price below
    page.fill("input[name=member_price]", "12.345")  # not a price in yuan: refused, nothing changes
    page.click("#prices button[type=submit]")
    expect(page.locator("#problems .problem")).to_contain_text("请填写以元为单位的金额")
    assert ok(api(live_server).get(f"/api/v1/products/{sku}"))["prices"]["member"] == 41550

    page.context.clear_cookies()
    login(page, "clerk")
    page.goto(f"/products/{sku}")
    assert page.locator("#prices [data-price=list]").inner_text() == "¥460.00"
    assert page.locator("input[name=list_price]").count() == 0
