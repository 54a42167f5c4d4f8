"""Stock in the browser: by location with minimums, a transfer that moves stock, a stock count, an Excel import
with a refused row, who bought a batch, and a clerk kept out of another store's stock. Each test that changes
data prepares its own products through the API."""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.browser.conftest import Console, api, login, shot


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def product(client: httpx.Client, *, unit: str = "g", name: str = "茉莉花茶") -> str:
    tag = uuid.uuid4().hex[:6].upper()
    sku = f"T-STK-{tag}"
    ok(client.post("/api/v1/products", json={
        "sku": sku, "name": f"{name} {tag}", "category": "scented", "unit": unit,
        "prices": {"list": 9900 if unit == "piece" else 36000},
        "tea": {"origin": "福建福州", "grade": "特级", "harvest_year": 2026, "shelf_life_days": 540}}), 201)
    return sku


def receive(client: httpx.Client, sku: str, location: str, quantity: int, batch: str) -> None:
    ok(client.post("/api/v1/stock/receipts", json={
        "location": location, "sku": sku, "batch_code": batch, "quantity": quantity, "unit_cost": 30,
        "produced_on": "2026-05-01", "supplier": "福州茉莉花茶厂"}), 201)


def on_hand(client: httpx.Client, sku: str, location: str) -> int:
    [item] = ok(client.get("/api/v1/stock", params={"sku": sku, "location": location}))["items"]
    return int(item["on_hand"])


def test_a_transfer_made_in_the_browser_moves_stock_and_a_minimum_flags_it(page: Any, live_server: str,
                                                                          console: Console) -> None:
    client = api(live_server)
    sku = product(client)
    receive(client, sku, "WH01", 1500, f"WH-{sku}")
    login(page, "boss")
    page.goto("/stock?location=WH01")
    expect(page.locator("h1")).to_contain_text("杭州中心仓")
    assert page.locator("table.levels tbody tr").count() >= 20  # the demo warehouse
    shot(page, "stock")
    page.fill("input[name=q]", sku)
    expect(page.locator("table.levels tbody tr")).to_have_count(1)
    assert "1,500 g (3 斤)" in page.locator(f"tr[data-sku='{sku}']").inner_text()

    page.click("nav.subnav >> text=调拨")
    page.select_option("select[name=from_location]", "WH01")
    page.select_option("select[name=to_location]", "BJ01")
    page.locator("input[name=sku]").first.fill(sku)
    page.locator("input[name=quantity]").first.fill("500")
    page.fill("input[name=note]", "门店补货")
    page.click("#transfer-form button[type=submit]")
    page.wait_for_url(re.compile(r"/stock/transfers\?made=\d+"))
    expect(page.locator(".notice")).to_contain_text("库存已转移")
    made = page.locator("table.transfers tbody tr").first
    assert "WH01" in made.inner_text() and "BJ01" in made.inner_text() and "500 g (1 斤)" in made.inner_text()
    shot(page, "transfers")
    assert (on_hand(client, sku, "WH01"), on_hand(client, sku, "BJ01")) == (1000, 500)

    # BJ01 wants at least 2 斤 of it: the row is flagged below its minimum
    page.goto("/stock?location=BJ01")
    page.fill("form.inline-form input[name=sku]", sku)
    page.fill("form.inline-form input[name=minimum]", "1000")
    page.click("form.inline-form button[type=submit]")
    row = page.locator(f"tr[data-sku='{sku}']")
    expect(row).to_have_class(re.compile("below"))
    assert "低于最低库存" in row.inner_text() and "1,000 g (2 斤)" in row.inner_text()

    # too much: refused with the reason (an expected 409), nothing moves
    console.allow(r"status of 409")
    page.goto("/stock/transfers")
    page.locator("input[name=sku]").first.fill(sku)
    page.locator("input[name=quantity]").first.fill("5000")
    page.click("#transfer-form button[type=submit]")
    expect(page.locator("#problems .problem")).to_contain_text("库存不足")
    assert (on_hand(client, sku, "WH01"), on_hand(client, sku, "BJ01")) == (1000, 500)


def test_a_clerk_cannot_open_another_stores_stock(page: Any, console: Console) -> None:
    console.allow(r"status of 403")
    login(page, "clerk")
    page.goto("/stock")
    expect(page.locator("h1")).to_contain_text("北京前门店")
    assert page.locator(".location-tabs a:has-text('HZ01')").count() == 0
    response = page.goto("/stock?location=HZ01")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    assert "HZ01" in page.locator(".problem").inner_text()
    assert page.locator("table.levels").count() == 0


def test_a_manager_counts_stock_and_the_difference_is_booked(page: Any, live_server: str) -> None:
    client = api(live_server)
    sku = product(client, unit="piece", name="茉莉龙珠 罐装")
    receive(client, sku, "BJ01", 10, f"BJ-{sku}")
    login(page, "mgr")
    page.goto("/stock/counts")
    page.select_option("select[name=location]", "BJ01")
    page.click("button:has-text('开始盘点')")
    page.wait_for_url(re.compile(r"/stock/counts/new\?location=BJ01"))
    page.locator(f"tr[data-sku='{sku}'] input[name=counted]").fill("8")
    page.click("button:has-text('提交盘点')")
    page.wait_for_url(re.compile(r"/stock/counts\?done=\d+"))
    posted = page.locator("details.count[open]")
    assert "BJ01" in posted.inner_text()
    line = posted.locator("tr", has_text=sku)
    assert line.locator("td.difference").inner_text() == "-2"
    shot(page, "counts")
    assert on_hand(client, sku, "BJ01") == 8


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_excel_import_with_a_bad_row_shows_the_report_and_imports_nothing(page: Any, live_server: str,
                                                                             tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    good, bad, other = f"T-IMP-{tag}-1", f"T-IMP-{tag}-2", f"T-IMP-{tag}-3"
    file = _workbook(tmp_path / "新品.xlsx", [
        ["sku", "name", "category", "unit", "list_price", "origin", "grade"],
        [good, "白毫银针 2026", "white", "g", 98000, "福建福鼎", "特级"],
        [bad, "白牡丹 2026", "white", "jin", 56000, "福建政和", "一级"],
        [other, "寿眉 2026", "white", "g", 26000, "福建福鼎", "二级"],
    ])
    login(page, "boss")
    page.goto("/stock/imports")
    page.select_option("select[name=kind]", "products")
    page.set_input_files("input[name=file]", str(file))
    page.click("form[action='/stock/imports'] button[type=submit]")
    report = page.locator("#import-report .report")
    expect(report).to_have_attribute("data-committed", "false")
    assert "未导入任何数据" in report.inner_text()
    refused = report.locator("table.import-errors tbody tr")
    expect(refused).to_have_count(1)
    assert refused.locator("td").nth(0).inner_text() == "3"  # the spreadsheet's row number (header is row 1)
    assert refused.locator("td").nth(1).inner_text() == "unit"
    shot(page, "import")
    client = api(live_server)
    assert client.get(f"/api/v1/products/{good}").status_code == 404  # nothing from a refused file

    page.check("input[name=skip_bad]")
    page.click("form[action='/stock/imports'] button[type=submit]")
    expect(report).to_have_attribute("data-committed", "true")
    assert "新建 2" in report.inner_text()
    assert ok(client.get(f"/api/v1/products/{good}"))["prices"]["list"] == 98000
    assert client.get(f"/api/v1/products/{bad}").status_code == 404


def test_the_batch_page_lists_who_bought_the_batch(page: Any, live_server: str) -> None:
    client = api(live_server)
    sku = product(client, unit="piece", name="茉莉银毫 礼罐")
    batch = f"RC-{sku}"
    receive(client, sku, "BJ01", 10, batch)
    phone = f"139{random.randrange(10**8):08d}"
    name = f"召回测试{uuid.uuid4().hex[:4]}"
    order = ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": phone, "name": name},
        "lines": [{"sku": sku, "quantity": 2}], "payments": [{"method": "wechat", "amount": 19800}]}), 201)

    login(page, "boss")
    page.goto(f"/stock/batches?q={sku}")
    expect(page.locator("table.batches tbody tr")).to_have_count(1)
    assert "福州茉莉花茶厂" in page.locator("table.batches").inner_text()
    shot(page, "batches")
    page.click(f"table.batches a:has-text('{batch}')")
    page.wait_for_url(re.compile(r"/stock/batch\?"))
    buyer = page.locator("table.buyers tbody tr", has_text=name)
    expect(buyer).to_have_count(1)
    assert buyer.locator("td").nth(1).inner_text() == "2"
    assert f"#{order['id']}" in buyer.inner_text()
    assert "销售" in page.locator("table.movements").inner_text()
    shot(page, "batch")

    page.context.clear_cookies()
    login(page, "clerk")  # a clerk sees the batch of their store, not who bought it
    page.goto(f"/stock/batch?sku={sku}&code={batch}")
    assert "福州茉莉花茶厂" in page.locator("dl.facts").inner_text()
    assert page.locator("table.buyers").count() == 0
    assert name not in page.content()
