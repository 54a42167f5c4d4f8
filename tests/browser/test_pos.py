"""The counter (POS) in a real browser: a clerk sells to a member found by phone, with a coupon and part of the
points, paid in cash and WeChat with change; and sales made while the network is down are kept on the device
(through a reload), then reach the server exactly once when it returns. Every check of what happened is made
through the API."""

from __future__ import annotations

import re
import uuid
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import api, login, shot

PIECE, LOOSE = "LJ-XH-MQ-250", "TGY-AX-QX-L"  # a 250 g can, and loose Tieguanyin sold by weight (per 500 g)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def line_amount(grams: int, price: int, basis: int) -> int:
    return (2 * grams * price + basis) // (2 * basis)


def stock_up(client: httpx.Client, *skus: str) -> None:
    for sku in skus:
        ok(client.post("/api/v1/stock/receipts", json={
            "location": "BJ01", "sku": sku, "batch_code": f"POS-{uuid.uuid4().hex[:8]}", "quantity": 5000,
            "unit_cost": 100, "produced_on": "2026-03-28"}), 201)


def price(client: httpx.Client, sku: str) -> dict[str, Any]:
    return ok(client.get(f"/api/v1/products/{sku}"))  # type: ignore[no-any-return]


def pos_orders_since(client: httpx.Client, since: str) -> list[dict[str, Any]]:
    """The counter orders of BJ01 placed since a moment, in full (with their client_id), oldest first."""
    items = ok(client.get("/api/v1/orders", params={"channel": "pos", "location": "BJ01", "since": since,
                                                    "limit": 200}))["items"]
    return [ok(client.get(f"/api/v1/orders/{o['id']}")) for o in reversed(items)]


def open_counter(page: Any) -> None:
    page.goto("/pos")
    expect(page.locator("#catalog-state")).not_to_be_empty()  # the store's products are on the device
    expect(page.locator("#scan")).to_be_focused()


def test_clerk_sells_to_a_member_with_a_coupon_points_and_split_payment(page: Any, live_server: str) -> None:
    with closing(api(live_server)) as boss:
        stock_up(boss, PIECE, LOOSE)
        phone = f"139{uuid.uuid4().int % 10**8:08d}"
        member = ok(boss.post("/api/v1/customers", json={"name": "林清", "phone": phone}), 201)
        ok(boss.post(f"/api/v1/customers/{member['id']}/points/adjustments",
                     json={"points": 3000, "reason": "welcome"}), 201)
        code = f"POS{uuid.uuid4().hex[:6].upper()}"
        ok(boss.post("/api/v1/coupons", json={"code": code, "name": "满200减30", "kind": "threshold",
                                              "value": 3000, "threshold": 20000}), 201)
        grant = ok(boss.post(f"/api/v1/coupons/{code}/grants", json={"customer_id": member["id"]}), 201)
        piece, loose = price(boss, PIECE), price(boss, LOOSE)
    # A member pays member prices: one can and half a jin (250 g) of loose tea, 30 yuan off, 15 yuan in points.
    total = piece["prices"]["member"] + line_amount(250, loose["prices"]["member"], loose["price_basis"]) - 3000
    to_pay = total - 1500
    wechat = 50000
    cash = (to_pay - wechat) // 10000 * 10000 + 10000  # the next whole 100 yuan note
    change = wechat + cash - to_pay

    login(page, "clerk")
    open_counter(page)
    page.keyboard.type(PIECE)
    page.keyboard.press("Enter")  # an exact SKU (a scan) goes straight onto the sale
    page.keyboard.type("铁观音 清香")  # part of a name lists the matches
    expect(page.locator("#matches li").first).to_contain_text(LOOSE)
    page.keyboard.press("Enter")
    expect(page.locator("#lines input.grams")).to_be_focused()  # weigh it: the grams are typed next
    page.click("#lines button.quick:has-text('半斤')")
    expect(page.locator("#lines input.grams")).to_have_value("250")

    page.fill("#member-q", phone)
    page.press("#member-q", "Enter")
    expect(page.locator("#member-points")).to_have_text("3000")
    expect(page.locator("#member-card")).to_contain_text("林清")
    page.fill("#coupon-code", grant["code"])
    page.press("#coupon-code", "Enter")
    page.fill("#points", "1500")
    expect(page.locator("#t-total")).to_have_text(yuan(total))
    expect(page.locator("#t-topay")).to_have_text(yuan(to_pay))
    expect(page.locator("#price-source")).to_have_text("已由服务器计价")

    page.fill("#pay-wechat", str(wechat // 100))
    page.fill("#pay-cash", str(cash // 100))
    expect(page.locator("#t-remaining")).to_have_text(yuan(0))
    expect(page.locator("#t-change")).to_have_text(yuan(change))
    shot(page, "pos")
    page.click("#pay-button")

    number = page.locator("#receipt-number")
    expect(number).to_have_text(re.compile(r"^SO\d{8}$"))
    expect(page.locator("#receipt-total")).to_have_text(yuan(total))
    expect(page.locator("#receipt-change")).to_have_text(yuan(change))
    expect(page.locator("#receipt-points-spent")).to_have_text("1500")
    # Points are earned on what was paid in money, a moment after the sale (the worker credits them).
    expect(page.locator("#receipt-points-earned")).to_have_text(re.compile(r"^\d+$"), timeout=30_000)
    page.emulate_media(media="print")  # what the 58 mm printer gets: the receipt alone
    assert page.locator(".pos-grid").is_hidden() and page.locator("#receipt").is_visible()
    assert page.evaluate("document.getElementById('receipt').getBoundingClientRect().width") < 230  # 58 mm
    shot(page, "pos-receipt")
    page.emulate_media(media="screen")

    with closing(api(live_server)) as boss:
        orders = ok(boss.get("/api/v1/orders", params={"customer_id": member["id"]}))["items"]
        assert [o["number"] for o in orders] == [number.inner_text()]  # exactly one order
        order = ok(boss.get(f"/api/v1/orders/{orders[0]['id']}"))
        assert (order["channel"], order["location"], order["status"]) == ("pos", "BJ01", "completed")
        assert (order["total"], order["coupons"], order["coupon_discount"]) == (total, [code], 3000)
        # The cash tendered and what it paid (the rest went back as change).
        assert sorted((p["method"], p["amount"], p["tendered"]) for p in order["payments"]) == \
            sorted([("points", 1500, None), ("wechat", wechat, None), ("cash", cash - change, cash)])
        assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [(PIECE, 1), (LOOSE, 250)]
        assert uuid.UUID(order["client_id"])
        coupons = ok(boss.get(f"/api/v1/customers/{member['id']}/coupons"))["items"]
        assert [(c["code"], c["status"]) for c in coupons] == [(grant["code"], "redeemed")]
        points = ok(boss.get(f"/api/v1/customers/{member['id']}/points"))
        assert [e["points"] for e in points["entries"] if e["kind"] == "spend"] == [-1500]
        earned = [e["points"] for e in points["entries"] if e["kind"] == "earn" and e["order_id"] == order["id"]]
        assert earned == [int(page.locator("#receipt-points-earned").inner_text())] and earned[0] > 0
        assert page.locator("#receipt-points-balance").inner_text() == str(points["balance"])
    page.keyboard.press("Escape")  # the receipt closes; the counter is ready for the next sale
    expect(page.locator("#scan")).to_be_focused()
    expect(page.locator("#lines tr")).to_have_count(0)


def sell_offline(page: Any, sku: str, grams: str | None, method: str) -> None:
    page.fill("#scan", sku)
    page.press("#scan", "Enter")
    if grams:
        page.fill("#lines input.grams", grams)
    page.click(f"button.rest[data-method={method}]")  # the rest (here: all of it) by this method
    expect(page.locator("#t-remaining")).to_have_text(yuan(0))
    expect(page.locator("#price-source")).to_have_text("离线：按本机价格计算")
    page.click("#pay-button")
    expect(page.locator("#receipt .r-offline")).to_contain_text("已保存在本机")
    page.click("#next-sale")


def test_sales_made_offline_are_kept_and_arrive_once_when_the_network_returns(
        page: Any, context: Any, console: Any, live_server: str) -> None:
    console.allow(r"net::ERR_INTERNET_DISCONNECTED")  # what a fetch says while the network is down
    started = datetime.now(UTC).isoformat()
    with closing(api(live_server)) as boss:
        stock_up(boss, PIECE, LOOSE)
        piece, loose = price(boss, PIECE), price(boss, LOOSE)
    login(page, "clerk")
    open_counter(page)
    expect(page.locator("#pos")).to_have_attribute("data-offline-ready", "true")  # it opens again offline

    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    sell_offline(page, PIECE, None, "cash")
    sell_offline(page, LOOSE, "100", "wechat")
    expect(page.locator("#unsent-count")).to_have_text("2")
    queued = page.evaluate("""() => new Promise((resolve) => {
        indexedDB.open("teahub-pos").onsuccess = (e) => {
          const req = e.target.result.transaction("queue").objectStore("queue").getAll();
          req.onsuccess = () => resolve(req.result.map((q) => [q.client_id, q.receipt.total]));
        };
      })""")
    assert [total for _, total in queued] == [piece["prices"]["list"],
                                              line_amount(100, loose["prices"]["list"], loose["price_basis"])]

    page.reload()  # the tab closed and opened again, still offline: nothing is lost
    expect(page.locator("#unsent-count")).to_have_text("2")
    expect(page.locator("#queue-rows tr")).to_have_count(2)
    client_ids = [cid for cid, _ in queued]
    with closing(api(live_server)) as boss:  # nothing reached the server yet
        assert [o for o in pos_orders_since(boss, started) if o["client_id"] in client_ids] == []

    context.set_offline(False)
    expect(page.locator("#unsent-count")).to_have_text("0", timeout=20_000)
    expect(page.locator("#queue")).to_be_hidden()
    with closing(api(live_server)) as boss:
        arrived = [o for o in pos_orders_since(boss, started) if o["client_id"] in client_ids]
    assert [o["client_id"] for o in arrived] == client_ids  # each once, in the order they were made
    assert [(o["total"], o["status"]) for o in arrived] == [(total, "completed") for _, total in queued]
    assert [(p["method"], p["amount"]) for p in arrived[0]["payments"]] == [("cash", arrived[0]["total"])]
    assert [(p["method"], p["amount"]) for p in arrived[1]["payments"]] == [("wechat", arrived[1]["total"])]
    assert [ln["quantity"] for ln in arrived[1]["lines"]] == [100]


def test_a_queued_sale_the_server_refuses_stays_visible_with_its_problem(
        page: Any, context: Any, console: Any, live_server: str) -> None:
    console.allow(r"net::ERR_INTERNET_DISCONNECTED")
    console.allow(r"status of 422")  # the server refusing the sale (and pricing it again once back at the counter)
    sku = f"POS-{uuid.uuid4().hex[:8].upper()}"
    started = datetime.now(UTC).isoformat()
    with closing(api(live_server)) as boss:
        ok(boss.post("/api/v1/products", json={"sku": sku, "name": "柜台试饮杯", "category": "teaware",
                                               "unit": "piece", "prices": {"list": 1800}}), 201)
        stock_up(boss, sku)
    login(page, "clerk")
    open_counter(page)
    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    sell_offline(page, sku, None, "cash")
    with closing(api(live_server)) as boss:  # meanwhile the office stops selling it
        ok(boss.patch(f"/api/v1/products/{sku}", json={"active": False}))

    context.set_offline(False)
    expect(page.locator("#attention-count")).to_have_text("1", timeout=20_000)  # refused: never dropped
    expect(page.locator("#unsent-count")).to_have_text("0")
    row = page.locator("#queue-rows tr.attention")
    expect(row).to_contain_text("需处理")
    expect(row).to_contain_text("lines.0.sku")  # the problem the server gave, with its field
    expect(row).to_contain_text(f"{sku} is no longer sold")
    page.reload()
    expect(page.locator("#queue-rows tr.attention")).to_have_count(1)
    page.click("#queue-rows tr.attention button[data-act=edit]")  # back to the counter to put it right
    expect(page.locator("#lines tr")).to_have_count(1)
    expect(page.locator("#lines")).to_contain_text(sku)
    expect(page.locator("#queue")).to_be_hidden()
    with closing(api(live_server)) as boss:
        assert [o for o in pos_orders_since(boss, started) if o["lines"][0]["sku"] == sku] == []
