"""Customers in the browser: find a member by the last four digits of their phone (or their pinyin initials) and
open their 360 page with their orders; a clerk sees phone numbers masked, as the API shows them."""

from __future__ import annotations

import random
import re
from contextlib import closing
from typing import Any

import httpx
from playwright.sync_api import expect

from teahub.customers.rules import mask_phone
from tests.browser.conftest import api, login, shot

CASH = 100_000_000


def new_customer(client: httpx.Client, name: str) -> dict[str, Any]:
    """A customer whose phone's last four digits no other customer has."""
    rng = random.Random()
    for _ in range(50):
        phone = f"139{rng.randrange(10**8):08d}"
        if not client.get("/api/v1/customers", params={"q": phone[-4:]}).json()["items"]:
            answer = client.post("/api/v1/customers", json={"name": name, "phone": phone, "home_store": "BJ01"})
            assert answer.status_code == 201, answer.text
            return {**answer.json(), "phone": phone}
    raise AssertionError("no free last four digits")


def sale_to(client: httpx.Client, customer_id: int) -> dict[str, Any]:
    items = client.get("/api/v1/stock", params={"location": "BJ01", "limit": 200}).json()["items"]
    item = next(i for i in items if not i["derived"] and i["available"] >= 1)
    answer = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"id": customer_id},
        "lines": [{"sku": item["sku"], "quantity": 1}], "payments": [{"method": "cash", "amount": CASH}]})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def money(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def test_find_a_member_by_the_last_four_digits_and_open_their_360(page: Any, live_server: str) -> None:
    with closing(api(live_server, "boss")) as boss:
        member = new_customer(boss, "测试顾客甲")
        order = sale_to(boss, member["id"])
    login(page, "boss")
    page.goto("/customers")
    page.fill("input[name=q]", member["phone"][-4:])  # HTMX searches as the clerk types
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("测试顾客甲")
    expect(rows.first.locator(".phone")).to_have_text(f"+86{member['phone']}")
    expect(rows.first).to_contain_text(money(order["total"]))  # lifetime spend
    assert re.search(r"q=\d{4}", page.url)  # the search is in the address, to share or reload
    shot(page, "customers")

    rows.first.locator("a").click()
    page.wait_for_url(f"**/customers/{member['id']}")
    expect(page.locator("#customer-name")).to_have_text("测试顾客甲")
    expect(page.locator("#lifetime-spend .value")).to_have_text(money(order["total"]))
    link = page.locator(f"#orders a[href='/orders/{order['id']}']")
    expect(link).to_have_text(order["number"])
    for card in ("#profile", "#points", "#coupons", "#consents", "#repurchase", "#recommendations", "#tickets",
                 "#activities"):
        expect(page.locator(card)).to_be_visible()
    expect(page.locator("#consents")).to_contain_text("短信营销")
    shot(page, "customer-360")


def test_a_clerk_sees_phones_masked(page: Any, live_server: str) -> None:
    with closing(api(live_server, "boss")) as boss:
        member = new_customer(boss, "测试顾客乙")
    shown = mask_phone(f"+86{member['phone']}")
    login(page, "clerk")
    page.goto(f"/customers?q={member['phone'][-4:]}")
    expect(page.locator("#results tbody tr .phone")).to_have_text(shown)
    assert member["phone"] not in page.content()
    with closing(api(live_server, "clerk")) as clerk:  # as the API shows it to them
        listed = clerk.get("/api/v1/customers", params={"q": member["phone"][-4:]}).json()["items"]
        assert [c["phone"] for c in listed] == [shown]
    page.locator("#results tbody tr a").first.click()
    expect(page.locator("#profile .phone")).to_have_text(shown)
    assert member["phone"] not in page.content()


def test_find_a_customer_by_pinyin_initials(page: Any, live_server: str) -> None:
    with closing(api(live_server, "boss")) as boss:
        member = new_customer(boss, "上官婉儿")
    login(page, "boss")
    page.goto("/customers")
    page.fill("input[name=q]", "sgwe")
    expect(page.locator(f"#results tbody tr[data-customer='{member['id']}']")).to_contain_text("上官婉儿")
