"""Integrations in the browser: a dead letter made for real (a webhook answering 500) replayed once the receiver
is back; a platform order that failed on an unknown SKU, mapped and replayed from the inbox; a mapping preview."""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import api, login, shot

REAL = Path("/work/shared/fixtures/channels/real")
if not REAL.exists():  # the real captures are kept beside the repository in CI
    REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "channels" / "real"
VIRTUAL = REAL / "youzan" / "trade_get_virtual_wait_send.json"  # its one line has no merchant code
VIRTUAL_SKU_ID = "450996611"
T = TypeVar("T")


class Receiver:
    """A webhook receiver on a free port: answers `status` (500 until switched) and keeps what it was sent."""

    def __init__(self) -> None:
        self.status = 500
        self.received: list[tuple[int, dict[str, Any]]] = []  # (status answered, event)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.status
                receiver.received.append((status, json.loads(body)))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}" if status == 200 else b'{"error": "down for maintenance"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/teahub-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answered(self, status: int) -> list[dict[str, Any]]:
        return [event for answered, event in self.received if answered == status]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def eventually(read: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.3)


def test_a_dead_letter_is_replayed_from_the_browser_once_the_receiver_is_back(page: Any, live_server: str,
                                                                               receiver: Receiver) -> None:
    client = api(live_server)
    target = f"partner-{uuid.uuid4().hex[:8]}"
    created = client.post("/api/v1/sync/targets", json={
        "name": target, "kind": "webhook", "url": receiver.url, "secret": "a-secret-of-24-characters",
        "event_types": ["customer.created"], "max_attempts": 1, "timeout_seconds": 5})
    assert created.status_code == 201, created.text
    customer = client.post("/api/v1/customers", json={"name": "死信测试", "phone": f"139{random.randrange(10**8):08d}"})
    assert customer.status_code == 201, customer.text
    record = f"customer:{customer.json()['id']}"
    # The embedded worker delivers it, the receiver answers 500, one attempt allowed: a dead letter.
    letter = eventually(lambda: next((d for d in client.get("/api/v1/sync/dead-letters", params={"target": target})
                                      .json() if d["record_key"] == record), None))
    assert "HTTP 500" in letter["error"]
    assert [e["id"] for e in receiver.answered(500)] == [letter["event_id"]]

    receiver.status = 200
    login(page, "boss")
    page.goto(f"/integrations/dead-letters?target={target}")
    row = page.locator(f"#dead-letter-{letter['id']}")
    expect(row).to_contain_text("HTTP 500")
    expect(row).to_contain_text(record)
    shot(page, "dead-letters")
    row.get_by_role("button", name="重放").click()
    expect(row).to_have_count(0, timeout=30_000)  # delivered: it leaves the list (the list refreshes itself)

    delivered = receiver.answered(200)
    assert [e["id"] for e in delivered] == [letter["event_id"]]
    assert delivered[0]["type"] == "customer.created" and delivered[0]["aggregate_id"] == record.split(":")[1]
    assert client.get("/api/v1/sync/dead-letters", params={"target": target}).json() == []
    [resolved] = client.get("/api/v1/sync/dead-letters", params={"target": target, "include_resolved": True}).json()
    assert resolved["resolved_at"] is not None and resolved["replays"] == 1

    page.goto("/integrations")
    target_row = page.locator(f"#targets tr[data-target='{target}']")
    expect(target_row).to_contain_text("webhook")
    assert target_row.locator("td").nth(6).inner_text().strip() == "0"  # no dead letters left


def test_a_failed_platform_order_is_mapped_and_replayed_from_the_inbox(page: Any, live_server: str) -> None:
    client = api(live_server)
    shop = f"YZ{uuid.uuid4().hex[:6].upper()}"
    made = client.post("/api/v1/shops", json={
        "code": shop, "platform": "youzan", "name": "有赞 清风茶舍", "location": "WH01", "app_key": "12345678",
        "app_secret": "s3cr3t-0f-the-shop", "api_url": "http://127.0.0.1:9/", "pull_enabled": False})
    assert made.status_code == 201, made.text
    stock = client.get("/api/v1/stock", params={"location": "WH01", "limit": 200}).json()["items"]
    sku = next(s["sku"] for s in stock if s["available"] >= 10 and not s["derived"])
    failed = client.post(f"/api/v1/channels/{shop}/orders", content=VIRTUAL.read_bytes(),
                         headers={"content-type": "application/json"})
    assert failed.status_code == 422 and VIRTUAL_SKU_ID in failed.json()["detail"]
    inbox_id = failed.json()["inbox_id"]

    login(page, "boss")
    page.goto("/integrations/inbox")
    page.select_option("select[name=shop]", shop)
    page.select_option("select[name=state]", "failed")
    page.click("form.filters button[type=submit]")
    row = page.locator(f"#inbox-{inbox_id}")
    expect(row.locator("[data-state]")).to_have_text("失败")
    expect(row).to_contain_text(VIRTUAL_SKU_ID)
    expect(row).to_contain_text("full_order_info.orders.0.outer_sku_id")
    assert page.locator("#inbox-table tbody tr").count() == 1  # filtered to the shop's failed ones
    shot(page, "inbox")
    row.get_by_role("link", name="原始报文").click()
    expect(page.locator("#payload")).to_contain_text("E20190118092109008800023")

    page.goto(f"/integrations/shops/{shop}")
    page.select_option("#mappings select[name=key_kind]", "platform_sku_id")
    page.fill("#mappings input[name=key]", VIRTUAL_SKU_ID)
    page.fill("#mappings input[name=sku]", sku)
    page.click("#mappings button[type=submit]")
    expect(page.locator("#mappings tbody tr").first).to_contain_text(VIRTUAL_SKU_ID)
    expect(page.locator(f"#shop-stock tr[data-sku='{sku}']")).to_be_visible()  # the stock shown follows
    assert [(m["platform_sku_id"], m["sku"]) for m in
            client.get(f"/api/v1/shops/{shop}/sku-mappings").json()["items"]] == [(VIRTUAL_SKU_ID, sku)]

    page.goto(f"/integrations/inbox?shop={shop}")
    row = page.locator(f"#inbox-{inbox_id}")
    row.get_by_role("button", name="重放").click()
    expect(row.locator("[data-state]")).to_have_text("已处理")
    message = client.get(f"/api/v1/inbox/{inbox_id}").json()
    assert message["state"] == "processed" and message["order_id"] is not None
    expect(row.get_by_role("link", name=f"#{message['order_id']}")).to_be_visible()
    order = client.get(f"/api/v1/orders/{message['order_id']}").json()
    assert order["external_id"] == "E20190118092109008800023" and [ln["sku"] for ln in order["lines"]] == [sku]

    page.goto("/integrations")
    shop_row = page.locator(f"#shops tr[data-shop='{shop}']")
    expect(shop_row).to_contain_text("有赞")
    expect(shop_row).to_contain_text("WH01")
    expect(shop_row).to_contain_text("1 个 SKU")  # the one mapped
    assert shop_row.locator("td").last.inner_text().strip() == "0"  # no failed message left
    shot(page, "integrations")

    page.set_viewport_size({"width": 375, "height": 800})  # a phone: wide tables scroll inside their frame
    for path in ("/integrations", f"/integrations/inbox?shop={shop}", f"/integrations/shops/{shop}"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_a_mapping_preview_shows_the_document_or_what_is_wrong(page: Any) -> None:
    login(page, "boss")
    page.goto("/integrations/mappings")
    expect(page.locator("#mappings-list tr[data-mapping='odoo-customer']")).to_contain_text("v1")
    page.select_option("select[name=name]", "odoo-customer")
    expect(page.locator("textarea[name=mapping]")).to_have_value(re.compile("record: customer"))
    sample = {"id": 7, "name": "王芳", "kind": "company", "company_name": "清风茶舍", "phone": "13800001234",
              "status": "active"}
    page.fill("textarea[name=sample]", json.dumps(sample, ensure_ascii=False))
    page.click("#preview-form button[type=submit]")
    output = page.locator("#preview-output pre")
    expect(output).to_be_visible()
    document = json.loads(output.inner_text())
    assert document == {"ref": "teahub-7", "name": "清风茶舍", "phone": "13800001234", "is_company": True,
                        "active": True}
    shot(page, "mapping-preview")

    mapping = page.locator("textarea[name=mapping]").input_value()
    page.fill("textarea[name=mapping]", mapping.replace("record: customer", "record: invoice"))
    page.click("#preview-form button[type=submit]")
    error = page.locator("#preview-error")
    expect(error).to_contain_text("odoo-customer, line")
    expect(error).to_contain_text("record")
    expect(page.locator("#preview-output")).to_have_count(0)
