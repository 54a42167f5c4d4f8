"""CRM in the browser: the pipeline board (drag a card to the next stage; a move refused by a concurrent change
snaps back), a quote's rounds side by side and a new round, a ticket opened for a customer and closed, segments
with their sizes and a new one made with the rule editor, a coupon made with the form, and a campaign launched
with its results. Each test prepares its own records through the API and checks the outcome through it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Console, api, login, shot

WAIT = 15_000  # ms: the machine running the tests may be busy
SHOP_TIME = ZoneInfo("Asia/Shanghai")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def money(fen: int) -> str:
    yuan, cents = divmod(fen, 100)
    return f"¥{yuan:,}.{cents:02d}"


def local_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHOP_TIME).strftime("%Y-%m-%d %H:%M")


def tag() -> str:
    return uuid.uuid4().hex[:6].upper()


def company(http: httpx.Client, name: str) -> dict[str, Any]:
    return ok(http.post("/api/v1/customers", json={"name": name, "kind": "company", "company_name": name,
                                                   "credit_limit": 50_000_000, "payment_terms": "monthly"}), 201)


def person(http: httpx.Client, name: str) -> dict[str, Any]:
    phone = "139" + str(uuid.uuid4().int)[:8]
    return ok(http.post("/api/v1/customers", json={"name": name, "phone": phone}), 201)


def column_card(page: Any, stage: str, opportunity_id: int) -> Any:
    return page.locator(f'.board-column[data-stage="{stage}"] .opp-card[data-id="{opportunity_id}"]')


# -- the pipeline board -----------------------------------------------------------------------------
def test_a_card_dragged_to_the_next_stage_moves_the_opportunity(page: Any, live_server: str,
                                                                  console: Console) -> None:
    http = api(live_server)
    name = f"看板测试茶业 {tag()}"
    customer = company(http, name)
    opp = ok(http.post("/api/v1/opportunities", json={
        "customer_id": customer["id"], "title": "中秋礼盒 200 份", "stage": "proposal", "expected_value": 12_345_600,
        "expected_close_on": (date.today() + timedelta(days=30)).isoformat()}), 201)

    login(page, "mgr")
    page.goto("/crm/pipeline")
    card = column_card(page, "proposal", opp["id"])
    expect(card).to_contain_text(name)
    expect(card).to_contain_text(money(12_345_600))
    expect(card).to_contain_text(opp["expected_close_on"])
    card.drag_to(page.locator('.board-column[data-stage="negotiation"]'))
    moved = column_card(page, "negotiation", opp["id"])
    expect(moved).to_have_attribute("data-version", str(opp["version"] + 1), timeout=WAIT)  # the server's board
    expect(column_card(page, "proposal", opp["id"])).to_have_count(0)

    now = ok(http.get(f"/api/v1/opportunities/{opp['id']}"))
    assert (now["stage"], now["probability"]) == ("negotiation", 75)
    assert now["stage_history"][-1]["from_stage"] == "proposal"
    assert now["stage_history"][-1]["changed_by"] == "user:mgr"
    shot(page, "pipeline")

    # Someone changes the opportunity meanwhile: the next drag is refused, the card snaps back, the problem shows.
    ok(http.patch(f"/api/v1/opportunities/{opp['id']}", json={"title": "中秋礼盒 260 份"}))
    console.allow(r"409")
    moved.drag_to(page.locator('.board-column[data-stage="proposal"]'))
    expect(page.locator("#problems .problem")).to_contain_text("冲突", timeout=WAIT)
    expect(column_card(page, "negotiation", opp["id"])).to_have_count(1)
    expect(column_card(page, "proposal", opp["id"])).to_have_count(0)
    assert ok(http.get(f"/api/v1/opportunities/{opp['id']}"))["stage"] == "negotiation"


# -- quotes -----------------------------------------------------------------------------------------
def test_a_quote_shows_its_rounds_side_by_side_and_takes_a_new_one(page: Any, live_server: str) -> None:
    http = api(live_server)
    customer = company(http, f"报价测试酒店 {tag()}")
    sku = ok(http.get("/api/v1/products", params={"limit": 1}))["items"][0]["sku"]
    until = (date.today() + timedelta(days=20)).isoformat()
    quote = ok(http.post("/api/v1/quotes", json={"customer_id": customer["id"], "valid_until": until,
                                                 "lines": [{"sku": sku, "quantity": 100, "unit_price": 26_800}]}), 201)
    ok(http.post(f"/api/v1/quotes/{quote['id']}/send"))
    second = [{"sku": sku, "quantity": 100, "unit_price": 24_800}]
    ok(http.post(f"/api/v1/quotes/{quote['id']}/versions",
                 json={"valid_until": until, "note": "第二轮：单价让利", "lines": second}), 201)

    login(page, "mgr")
    page.goto(f"/crm/quotes/{quote['id']}")
    rounds = page.locator(".versions .version")
    expect(rounds).to_have_count(2)
    expect(rounds.nth(0).locator(".version-total")).to_have_text(money(2_680_000))
    expect(rounds.nth(1).locator(".version-total")).to_have_text(money(2_480_000))
    expect(rounds.nth(1)).to_contain_text("第二轮：单价让利")
    expect(page.locator(".version.current")).to_have_attribute("data-version", "2")
    expect(page.locator(".credit-check")).to_contain_text(money(50_000_000))
    shot(page, "quote")

    # A third round, 90 pieces at ¥240: entered in the form prefilled with the round on the table.
    page.click("#new-version summary")
    first = page.locator("#version-lines tr").first
    first.locator("input[name=quantity]").fill("90")
    first.locator("input[name=unit_price]").fill("240")
    page.click("#new-version button[type=submit]")
    expect(rounds).to_have_count(3, timeout=WAIT)
    expect(page.locator(".version.current")).to_have_attribute("data-version", "3")

    versions = ok(http.get(f"/api/v1/quotes/{quote['id']}/versions"))["items"]
    assert [v["total"] for v in versions] == [2_680_000, 2_480_000, 2_160_000]
    assert ok(http.get(f"/api/v1/quotes/{quote['id']}"))["status"] == "draft"  # a new round is sent again
    page.click("form[action$='/send'] button")
    expect(page.locator("h1 .badge")).to_have_attribute("data-status", "sent", timeout=WAIT)
    assert ok(http.get(f"/api/v1/quotes/{quote['id']}"))["status"] == "sent"


# -- tickets ----------------------------------------------------------------------------------------
def test_a_ticket_opened_in_the_browser_runs_to_closed(page: Any, live_server: str) -> None:
    http = api(live_server, "mgr")
    name = f"工单测试 {tag()}"
    customer = person(http, name)

    login(page, "mgr")
    page.goto("/crm/tickets")
    page.click("#open-ticket summary")
    page.fill("input[name=customer_q]", name)
    expect(page.locator("#ticket-customer select[name=customer_id]")).to_contain_text(name, timeout=WAIT)
    page.select_option("#open-ticket select[name=kind]", "delivery")
    page.select_option("#open-ticket select[name=priority]", "high")
    page.fill("#open-ticket input[name=subject]", "快递三天未到")
    page.click("#open-ticket button[type=submit]")
    page.wait_for_url(re.compile(r"/crm/tickets/\d+$"))

    listed = ok(http.get("/api/v1/tickets", params={"customer_id": customer["id"]}))["items"]
    assert len(listed) == 1
    ticket = listed[0]
    assert (ticket["kind"], ticket["priority"], ticket["status"]) == ("delivery", "high", "open")
    opened, due = datetime.fromisoformat(ticket["created_at"]), datetime.fromisoformat(ticket["due_at"])
    assert due - opened == timedelta(hours=12)  # a parcel that did not arrive, high priority
    assert page.url.endswith(f"/crm/tickets/{ticket['id']}")
    expect(page.locator("dd.due")).to_contain_text(local_time(ticket["due_at"]))

    page.fill("textarea[name=body]", "已联系快递公司")
    page.click("form[action$='/notes'] button")
    expect(page.locator(".notes")).to_contain_text("已联系快递公司", timeout=WAIT)
    page.fill("textarea[name=resolution]", "补发一盒，顺丰次日达")
    page.click("form[action$='/resolve'] button")
    expect(page.locator(".ticket-status")).to_have_attribute("data-status", "resolved", timeout=WAIT)
    page.click("form[action$='/close'] button")
    expect(page.locator(".ticket-status")).to_have_attribute("data-status", "closed", timeout=WAIT)

    closed = ok(http.get(f"/api/v1/tickets/{ticket['id']}"))
    assert closed["status"] == "closed" and closed["resolution"] == "补发一盒，顺丰次日达"
    assert [n["body"] for n in closed["notes"]] == ["已联系快递公司"]
    assert closed["breached"] is False

    page.goto(f"/crm/tickets?customer_id={customer['id']}")
    row = page.locator(f"#ticket-{ticket['id']}")
    expect(row.locator(".due")).to_have_text(local_time(ticket["due_at"]))
    expect(row.locator(".sla")).to_have_attribute("data-sla", "met")


# -- segments, coupons, campaigns -------------------------------------------------------------------
def _stocked_line(http: httpx.Client, location: str) -> dict[str, Any]:
    """A line of what the location has most of: one piece, or 50 g (1 两) of a loose tea."""
    items = ok(http.get("/api/v1/stock", params={"location": location, "limit": 200}))["items"]
    best = max((i for i in items if not i["derived"]), key=lambda i: i["available"])
    quantity = 50 if ok(http.get(f"/api/v1/products/{best['sku']}"))["unit"] == "g" else 1
    assert best["available"] >= quantity
    return {"sku": best["sku"], "quantity": quantity}


def test_segments_show_their_sizes_and_a_new_one_previews_then_saves(page: Any, live_server: str) -> None:
    http = api(live_server)
    existing = ok(http.post("/api/v1/segments", json={"name": f"黑金会员 {tag()}", "rules": {"tiers": ["vip"]}}), 201)
    size = ok(http.get(f"/api/v1/segments/{existing['id']}"))["size"]
    rules = {"tiers": ["member"], "stores": ["XM01"]}
    expected = ok(http.post("/api/v1/segments/preview", json={"rules": rules}))["size"]
    assert expected > 0

    login(page, "boss")
    page.goto("/crm/segments")
    expect(page.locator(f"#segment-{existing['id']} .segment-size")).to_have_text(str(size), timeout=WAIT)
    name = f"厦门普通会员 {tag()}"
    page.fill("#segment-form input[name=name]", name)
    page.check("#segment-form input[name=tiers][value=member]")
    page.check("#segment-form input[name=stores][value=XM01]")
    expect(page.locator("#segment-preview .preview-size")).to_have_text(str(expected), timeout=WAIT)
    shot(page, "segments")
    page.click("#segment-form button[type=submit]")
    page.wait_for_url(re.compile(r"/crm/segments/\d+$"))
    saved = ok(http.get(f"/api/v1/segments/{page.url.rsplit('/', 1)[1]}"))
    assert (saved["name"], saved["rules"], saved["size"]) == (name, rules, expected)
    expect(page.locator("strong.segment-size")).to_have_text(str(expected))


def test_a_coupon_made_with_the_form_and_a_campaign_launched_with_its_results(page: Any, live_server: str) -> None:
    http = api(live_server)
    code = f"MID{tag()}"
    login(page, "boss")
    page.goto("/crm/coupons")
    page.click("#new-coupon summary")
    page.fill("#new-coupon input[name=code]", code)
    page.fill("#new-coupon input[name=name]", "中秋满200减30")
    page.select_option("#new-coupon select[name=kind]", "threshold")
    page.fill("#new-coupon input[name=value]", "30")
    page.fill("#new-coupon input[name=threshold]", "200")
    page.fill("#new-coupon input[name=per_customer_limit]", "1")
    page.fill("#new-coupon input[name=valid_until]", (date.today() + timedelta(days=30)).isoformat())
    page.click("#new-coupon button[type=submit]")
    expect(page.locator(f"#coupon-{code} .offer")).to_contain_text("满 ¥200.00 减 ¥30.00", timeout=WAIT)
    made = next(c for c in ok(http.get("/api/v1/coupons", params={"limit": 500}))["items"] if c["code"] == code)
    assert (made["kind"], made["value"], made["threshold"], made["per_customer_limit"]) == ("threshold", 3000,
                                                                                           20000, 1)

    # A message campaign to the customers who allowed data sharing; one of them buys after the message.
    buyer = person(http, f"活动测试 {tag()}")
    for purpose in ("data_sharing", "marketing_sms"):
        ok(http.post(f"/api/v1/customers/{buyer['id']}/consents",
                     json={"purpose": purpose, "granted": True, "source": "pos:XM01"}), 201)
    segment = ok(http.post("/api/v1/segments", json={"name": f"同意数据共享 {tag()}",
                                                      "rules": {"consent": "data_sharing"}}), 201)
    campaign = ok(http.post("/api/v1/campaigns", json={
        "name": f"中秋上新 {tag()}", "segment_id": segment["id"], "kind": "message",
        "message": {"channel": "sms", "template": "mid_autumn_2026"}}), 201)
    page.goto(f"/crm/campaigns/{campaign['id']}")
    page.click("form[action$='/launch'] button")
    expect(page.locator(".campaign-status")).to_have_attribute("data-status", "finished", timeout=WAIT)
    order = ok(http.post("/api/v1/orders", json={
        "channel": "pos", "location": "XM01", "customer": {"id": buyer["id"]},
        "lines": [_stocked_line(http, "XM01")],
        "payments": [{"method": "cash", "amount": 100_000_000}]}), 201)

    results = ok(http.get(f"/api/v1/campaigns/{campaign['id']}/results"))
    assert results["reached"] >= 1 and results["orders"] >= 1
    assert results["revenue"] >= order["total"] > 0
    page.reload()
    for field in ("revenue", "gross_profit"):
        expect(page.locator(f'[data-result="{field}"]')).to_have_text(money(results[field]))
    page.goto("/crm/campaigns")
    row = page.locator(f"#campaign-{campaign['id']}")
    expect(row).to_contain_text(segment["name"])
    expect(row).to_contain_text(money(results["revenue"]))
    shot(page, "campaigns")
    assert datetime.fromisoformat(results["launched_at"]) <= datetime.now(UTC)
