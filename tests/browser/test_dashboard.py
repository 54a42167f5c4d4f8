"""The dashboard in the browser: today's sales move with a sale, each user sees their stores' figures (and the
margin and sync health only when their role may read them), and the page fits a phone."""

from __future__ import annotations

import re
from contextlib import closing
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import api, login, shot

CASH = 100_000_000  # handed over at the counter; the change comes back


def fen(text: str) -> int:
    """"¥1,234.56" → 123456."""
    return int(re.sub(r"[^\d-]", "", text))


def sell(client: httpx.Client, location: str) -> dict[str, Any]:
    """A counter sale at LOCATION of one unit (a piece, or a gram of loose tea) of something it has in stock,
    paid in cash."""
    items = client.get("/api/v1/stock", params={"location": location, "limit": 200}).json()["items"]
    item = next(i for i in items if not i["derived"] and i["available"] >= 1)
    answer = client.post("/api/v1/orders", json={
        "channel": "pos", "location": location, "lines": [{"sku": item["sku"], "quantity": 1}],
        "payments": [{"method": "cash", "amount": CASH}]})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def today_sales(page: Any) -> int:
    return fen(page.locator("#today-sales .value").inner_text())


def store_sales(page: Any, location: str) -> int:
    row = page.locator(f"#today-by-store tr[data-location='{location}'] td.num").last
    return fen(row.inner_text()) if row.count() else 0


def test_todays_sales_show_a_sale_just_made(page: Any, live_server: str) -> None:
    login(page, "boss")
    page.goto("/")
    before, before_bj = today_sales(page), store_sales(page, "BJ01")
    with closing(api(live_server, "boss")) as boss:
        order = sell(boss, "BJ01")
    page.reload()
    assert today_sales(page) == before + order["total"]
    assert store_sales(page, "BJ01") == before_bj + order["total"]
    expect(page.locator("#today-by-channel tr[data-channel='pos']")).to_contain_text("门店")
    expect(page.locator("#sales-chart rect.bar.today title")).to_contain_text(
        page.locator("#today-sales .value").inner_text())
    expect(page.locator("#margin .value")).to_contain_text("%")  # an admin reads the profit report
    expect(page.locator("#sync h2")).to_have_text("同步状态")
    shot(page, "dashboard")


def test_a_clerk_sees_their_store_only_without_margin_or_sync(page: Any, live_server: str) -> None:
    with closing(api(live_server, "boss")) as boss:
        sell(boss, "HZ01")  # another store sold today
    login(page, "clerk")
    page.goto("/")
    expect(page.locator("#scope")).to_contain_text("BJ01")
    assert page.locator("#today-by-store tr[data-location='HZ01']").count() == 0
    assert page.locator("#margin").count() == 0  # clerks may not read costs
    assert page.locator("#sync").count() == 0  # nor the sync status
    with closing(api(live_server, "clerk")) as clerk:  # the API refuses them both too
        assert clerk.get("/api/v1/reports/profit").status_code == 403
        assert clerk.get("/api/v1/sync/status").status_code == 403


def test_a_manager_sees_the_sync_health_and_their_margin(page: Any) -> None:
    login(page, "mgr")
    page.goto("/")
    expect(page.locator("#sync")).to_be_visible()
    rows = page.locator("#margin-by-location tbody tr")
    assert rows.count() <= 1 and all("BJ01" in text for text in rows.all_inner_texts())
    assert page.locator("#today-by-store tr[data-location='HZ01']").count() == 0


def test_the_dashboard_fits_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, "boss")
    page.goto("/")
    expect(page.locator("#sales-chart svg")).to_be_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
    assert max(widths[:2]) <= widths[2], widths
    shot(page, "dashboard-phone")
