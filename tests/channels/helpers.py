"""Arranging a shop with stock, and reading fixtures, for the channels tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient

from teahub.channels.connectors.base import secret_wrapped_md5
from tests import factories as f

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
REAL = Path("/work/shared/fixtures/channels/real")
if not REAL.exists():  # the real captures are kept beside the repository in CI
    REAL = HERE.parents[2] / "shared" / "fixtures" / "channels" / "real"

APP_KEY = "12345678"
SECRET = "s3cr3t-0f-the-shop"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def real(name: str) -> bytes:
    return (REAL / name).read_bytes()


def warehouse_with(client: TestClient, stock: dict[str, int], *, location: str = "WH01") -> None:
    f.location(client, location, "warehouse")
    for sku, quantity in stock.items():
        f.product(client, sku, list_price=10000, member=None, category="teaware" if "GAIWAN" in sku else "green",
                  shelf_life_days=None if "GAIWAN" in sku else 540)
        if quantity:
            f.receive(client, sku, quantity, location=location, batch=f"B-{sku}", unit_cost=1000)


def shop(client: TestClient, code: str, platform: str, *, location: str = "WH01", **extra: Any) -> dict[str, Any]:
    body = {"code": code, "platform": platform, "name": f"{platform} 清风茶舍", "location": location,
            "app_key": APP_KEY, "app_secret": SECRET, "allocation": {"ratio": 0.5, "safety_stock": 2}, **extra}
    return f.ok(client.post("/api/v1/shops", json=body), 201)


def post_order(client: TestClient, shop_code: str, body: bytes) -> Any:
    return client.post(f"/api/v1/channels/{shop_code}/orders", content=body,
                       headers={"content-type": "application/json"})


def inbox(client: TestClient, shop_code: str, **params: Any) -> list[dict[str, Any]]:
    return f.ok(client.get("/api/v1/inbox", params={"shop": shop_code, **params}))["items"]


def orders(client: TestClient, channel: str) -> list[dict[str, Any]]:
    return f.ok(client.get("/api/v1/orders", params={"channel": channel}))["items"]


# -- platform signing, as the platforms do it ----------------------------------------------------------
def taobao_push(client: TestClient, shop_code: str, body: bytes, *, secret: str = SECRET) -> Any:
    params = {"app_key": APP_KEY, "timestamp": "2026-11-11 09:31:13", "sign_method": "md5"}
    params["sign"] = secret_wrapped_md5(secret, params, body)
    return client.post(f"/api/v1/channels/{shop_code}/webhook?{urlencode(params)}", content=body,
                       headers={"content-type": "application/json"})


def youzan_push(client: TestClient, shop_code: str, data: dict[str, Any], *, msg_type: str = "trade_TradePaid",
                version: int = 1, msg_id: str = "9cb85c3d-8353-4e80-b24b-eb670eb52775", secret: str = SECRET) -> Any:
    body = youzan_body(data, msg_type=msg_type, version=version, msg_id=msg_id, secret=secret)
    return client.post(f"/api/v1/channels/{shop_code}/webhook", content=body,
                       headers={"content-type": "application/json"})


def youzan_body(data: dict[str, Any], *, msg_type: str = "trade_TradePaid", version: int = 1,
                msg_id: str = "9cb85c3d-8353-4e80-b24b-eb670eb52775", secret: str = SECRET) -> bytes:
    """A Youzan push carrying the order (`msg` URL-encoded, MD5 sign), as Youzan sends it."""
    msg = quote(json.dumps(data, ensure_ascii=False))
    tid = data["full_order_info"]["order_info"]["tid"]
    body = {"client_id": APP_KEY, "id": tid, "kdt_id": 567323, "kdt_name": "清风茶舍", "mode": 1, "msg": msg,
            "msg_id": msg_id, "sendCount": 0, "status": data["full_order_info"]["order_info"]["status"],
            "test": False, "type": msg_type, "version": version,
            "sign": hashlib.md5((APP_KEY + msg + secret).encode()).hexdigest()}
    return json.dumps(body, ensure_ascii=False).encode()


def query_signed_push(client: TestClient, shop_code: str, body: bytes, key_name: str = "app_key", *,
                      secret: str = SECRET) -> Any:
    """JD and PDD relays: MD5(secret + sorted query k+v + raw body + secret), uppercase."""
    params = {key_name: APP_KEY, "timestamp": "1794805200"}
    params["sign"] = secret_wrapped_md5(secret, params, body)
    return client.post(f"/api/v1/channels/{shop_code}/webhook?{urlencode(params)}", content=body,
                       headers={"content-type": "application/json"})


def douyin_push(client: TestClient, shop_code: str, body: bytes, *, secret: str = SECRET) -> Any:
    sign = hashlib.md5(APP_KEY.encode() + body + secret.encode()).hexdigest()
    return client.post(f"/api/v1/channels/{shop_code}/webhook", content=body,
                       headers={"content-type": "application/json", "event-sign": sign, "app-id": APP_KEY})
