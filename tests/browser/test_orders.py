"""Orders in the browser: the filtered list, the order page, shipping, refunding a line, a refused action, and a
clerk kept out of another store's order. Each test that changes data places its own order through the API."""

from __future__ import annotations

import re
import uuid
from contextlib import closing
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Console, api, login, shot

CAN_PRICE = 12800  # fen, list price of one can
LOOSE_PRICE = 68000  # fen per 斤 (500 g)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def stocked_products(client: httpx.Client, location: str = "WH01") -> tuple[str, str]:
    """A can (pieces) and a loose tea (grams, priced per 斤) of this test's own, in stock at LOCATION."""
    tag = uuid.uuid4().hex[:6].upper()
    can, loose = f"T-CAN-{tag}", f"T-LOOSE-{tag}"
    tea = {"origin": "浙江杭州西湖", "grade": "特级", "harvest_year": 2026, "season": "明前", "shelf_life_days": 540}
    ok(client.post("/api/v1/products", json={"sku": can, "name": f"龙井 罐装 {tag}", "category": "green",
                                             "unit": "piece", "prices": {"list": CAN_PRICE}, "tea": tea}), 201)
    ok(client.post("/api/v1/products", json={"sku": loose, "name": f"龙井 散茶 {tag}", "category": "green",
                                             "unit": "g", "price_basis": 500, "prices": {"list": LOOSE_PRICE},
                                             "tea": tea}), 201)
    for sku, quantity in ((can, 20), (loose, 5000)):
        ok(client.post("/api/v1/stock/receipts", json={
            "location": location, "sku": sku, "batch_code": f"B-{sku}", "quantity": quantity, "unit_cost": 40,
            "produced_on": "2026-04-01", "expires_on": "2027-10-01"}), 201)
    return can, loose


def paid_web_order(client: httpx.Client, lines: list[tuple[str, int]], total: int) -> dict[str, Any]:
    order = ok(client.post("/api/v1/orders", json={
        "channel": "web", "location": "WH01", "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
        "payments": [{"method": "alipay", "amount": total}]}), 201)
    assert order["status"] == "paid" and order["total"] == total
    return order  # type: ignore[no-any-return]


def steps_shown(page: Any) -> list[str]:
    return page.locator("#order-timeline li[data-step]").evaluate_all("els => els.map(e => e.dataset.step)")


def test_boss_filters_the_list_by_channel_and_status_and_opens_an_order(page: Any, live_server: str) -> None:
    login(page, "boss")
    page.goto("/orders")
    expect(page.locator("h1")).to_have_text("订单")
    page.select_option("select[name=channel]", "tmall")
    page.wait_for_url(re.compile(r"/orders\?channel=tmall$"))
    page.select_option("select[name=status]", "completed")
    page.wait_for_url(re.compile(r"/orders\?channel=tmall&status=completed$"))

    rows = page.locator("#results tr[data-id]")
    expect(rows.first).to_be_visible()
    shown = rows.evaluate_all("els => els.map(e => [Number(e.dataset.id), e.dataset.channel, e.dataset.status])")
    assert shown and all(channel == "tmall" and status == "completed" for _, channel, status in shown)
    assert set(rows.locator("td.channel").all_inner_texts()) == {"天猫"}
    assert set(rows.locator("td.status").all_inner_texts()) == {"已完成"}
    with closing(api(live_server, "boss")) as client:  # the same orders the API lists, newest first
        listed = ok(client.get("/api/v1/orders", params={"channel": "tmall", "status": "completed", "limit": 50}))
    assert [order_id for order_id, _, _ in shown] == [o["id"] for o in listed["items"]]
    shot(page, "orders")

    page.reload()  # the address keeps the filters
    assert page.locator("select[name=channel]").input_value() == "tmall"
    assert page.locator("#results tr[data-id]").count() == len(shown)

    first = listed["items"][0]
    page.click(f"#results tr[data-id='{first['id']}'] a[href='/orders/{first['id']}']")
    page.wait_for_url(f"**/orders/{first['id']}")
    expect(page.locator("#order h1")).to_contain_text(first["number"])
    expect(page.locator("#order-channel .channel")).to_have_text("天猫")
    assert page.locator("#order-lines tbody tr").count() >= 1
    assert steps_shown(page)[0] == "placed" and "completed" in steps_shown(page)
    assert page.locator("[data-action=ship]").count() == 0  # a completed order is not shipped again
    shot(page, "order")


def test_ship_a_paid_web_order_in_the_browser(page: Any, live_server: str) -> None:
    with closing(api(live_server, "boss")) as client:
        can, _loose = stocked_products(client)
        order = paid_web_order(client, [(can, 2)], 2 * CAN_PRICE)
    login(page, "boss")
    page.goto(f"/orders/{order['id']}")
    expect(page.locator("#order .badge[data-status]")).to_have_text("已付款")
    assert page.locator("[data-action=ship]").count() == 0  # not before its stock is allocated

    page.click("[data-action=allocate]")
    expect(page.locator("#order")).to_have_attribute("data-status", "allocated")
    expect(page.locator("#order-lines [data-batch]")).to_contain_text(f"B-{can}")
    page.select_option("#ship select[name=carrier]", "SF")
    page.fill("#ship input[name=tracking_no]", "SF1400123456789")
    page.click("[data-action=ship]")
    expect(page.locator("#order")).to_have_attribute("data-status", "shipped")
    expect(page.locator("#order .badge[data-status]")).to_have_text("已发货")
    expect(page.locator("#order .shipment")).to_have_text("顺丰速运 SF1400123456789")
    expect(page.locator("#order .notice")).to_have_text("订单已发货")
    assert page.locator("[data-action=ship], [data-action=allocate], [data-action=cancel]").count() == 0
    assert page.locator("[data-action=complete]").count() == 1
    assert steps_shown(page) == ["placed", "paid", "allocated", "shipped"]
    assert page.locator("#order-timeline li[data-step=shipped]").inner_text().count("已发货") == 1

    with closing(api(live_server, "boss")) as client:
        shipped = ok(client.get(f"/api/v1/orders/{order['id']}"))
    assert shipped["status"] == "shipped" and shipped["shipped_at"] is not None
    assert (shipped["carrier"], shipped["tracking_no"]) == ("SF", "SF1400123456789")
    assert [b["state"] for b in shipped["lines"][0]["batches"]] == ["shipped"]


def test_a_refused_action_shows_the_problem_and_changes_nothing(page: Any, console: Console,
                                                                 live_server: str) -> None:
    console.allow(r"status of 409")  # the refused post, shown in the page's problem area
    with closing(api(live_server, "boss")) as client:
        can, _loose = stocked_products(client)
        order = paid_web_order(client, [(can, 1)], CAN_PRICE)
        ok(client.post(f"/api/v1/orders/{order['id']}/allocate"))
        login(page, "boss")
        page.goto(f"/orders/{order['id']}")
        expect(page.locator("[data-action=ship]")).to_be_visible()
        ok(client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "买家取消"}))  # meanwhile, elsewhere

        page.click("[data-action=ship]")
        problem = page.locator("#problems .problem")
        expect(problem).to_contain_text("当前状态不允许此操作")
        expect(problem).to_contain_text("已取消的订单不能发货")
        expect(page.locator("#order")).to_have_attribute("data-status", "allocated")  # the page as it was
        assert ok(client.get(f"/api/v1/orders/{order['id']}"))["status"] == "cancelled"


def test_refund_one_line_of_a_paid_order(page: Any, live_server: str) -> None:
    with closing(api(live_server, "boss")) as client:
        can, loose = stocked_products(client)
        total = 2 * CAN_PRICE + LOOSE_PRICE // 2  # two cans and 250 g
        order = paid_web_order(client, [(can, 2), (loose, 250)], total)
    login(page, "boss")
    page.goto(f"/orders/{order['id']}")
    expect(page.locator(f"#order-lines tr[data-sku='{loose}'] td.num").first).to_have_text("250 g (5 两)")

    page.click("#refund summary")
    line = page.locator(f"#refund tr[data-sku='{loose}']")
    line.locator("input[name=pick]").check()
    line.locator("input[name=quantity]").fill("100")  # grams
    page.select_option("#refund select[name=restock]", "yes")
    page.fill("#refund input[name=reason]", "受潮")
    page.click("[data-action=refund]")
    expect(page.locator("#order .notice")).to_have_text("已退款")
    expect(page.locator("#order-money .refunded")).to_have_text("¥136.00")  # 100 of 250 g that earned ¥340.00
    expect(page.locator("#order-refunds tbody tr")).to_have_count(1)
    assert steps_shown(page)[-1] == "refunded"

    with closing(api(live_server, "boss")) as client:
        after = ok(client.get(f"/api/v1/orders/{order['id']}"))
    [refund] = after["refunds"]
    assert refund["amount"] == 13600 and refund["reason"] == "受潮" and refund["restock"] is True
    assert refund["lines"] == [{"line_no": 2, "sku": loose, "quantity": 100, "amount": 13600}]
    untouched, refunded = after["lines"]
    assert (untouched["sku"], untouched["refunded_quantity"], untouched["refunded_amount"]) == (can, 0, 0)
    assert (refunded["refunded_quantity"], refunded["refunded_amount"]) == (100, 13600)
    assert after["status"] == "paid" and after["refunded_amount"] == 13600

    # 仅退款: ¥20 back on a can, which the buyer keeps.
    page.click("#refund summary")
    line = page.locator(f"#refund tr[data-sku='{can}']")
    line.locator("input[name=pick]").check()
    line.locator("input[name=quantity]").fill("0")
    line.locator("input[name=amount]").fill("20")
    page.select_option("#refund select[name=restock]", "no")
    page.click("[data-action=refund]")
    expect(page.locator("#order-money .refunded")).to_have_text("¥156.00")
    with closing(api(live_server, "boss")) as client:
        after = ok(client.get(f"/api/v1/orders/{order['id']}"))
    assert after["refunds"][-1]["lines"] == [{"line_no": 1, "sku": can, "quantity": 0, "amount": 2000}]
    assert (after["lines"][0]["refunded_quantity"], after["lines"][0]["refunded_amount"]) == (0, 2000)


def test_a_clerk_cannot_open_another_store_s_order(page: Any, console: Console, live_server: str) -> None:
    console.allow(r"status of 403")  # the refused page itself
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    with closing(api(live_server, "boss")) as client:
        [elsewhere] = ok(client.get("/api/v1/orders", params={"location": "HZ01", "limit": 1}))["items"]
        can, _loose = stocked_products(client, "BJ01")
        own = ok(client.post("/api/v1/orders", json={
            "channel": "pos", "location": "BJ01", "customer": {"phone": phone, "name": "柳青"},
            "lines": [{"sku": can, "quantity": 1}], "payments": [{"method": "cash", "amount": CAN_PRICE}]}), 201)
    login(page, "clerk")
    page.goto(f"/orders/{own['id']}")  # an order of the clerk's own store opens, the buyer's phone masked
    expect(page.locator("#order-customer .phone")).to_contain_text("****")
    assert phone[3:] not in page.content()

    answer = page.goto(f"/orders/{elsewhere['id']}")
    assert answer is not None and answer.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    expect(page.locator(".problem")).to_contain_text("此订单属于您无权操作的门店")
    assert elsewhere["number"] not in page.content()

    page.goto("/orders")  # the search finds the clerk's own order by its number, not the other store's
    page.fill("input[name=q]", own["number"])
    page.wait_for_url(re.compile(rf"/orders\?q={own['number']}$"))
    expect(page.locator("#results tr[data-id]")).to_have_count(1)
    assert page.locator("#results tr[data-id]").get_attribute("data-id") == str(own["id"])
    page.fill("input[name=q]", elsewhere["number"])
    page.wait_for_url(re.compile(rf"/orders\?q={elsewhere['number']}$"))
    expect(page.locator("#results .notice")).to_have_text("没有符合条件的订单。")
    stores = page.locator("select[name=store] option").evaluate_all("els => els.map(e => e.value)")
    assert stores == ["", "BJ01"]  # the stores a clerk of BJ01 may filter by: all of theirs, only theirs
