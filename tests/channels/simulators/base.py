"""What every simulator shares: the orders it holds (raw documents, so 64-bit ids stay exact), the shop's
credentials, a log of calls, and serving them all on one port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

BEIJING = timezone(timedelta(hours=8))
APP_KEY = "12345678"
SECRET = "s3cr3t-0f-the-shop"
TOKEN = "access-token-of-the-shop"


def beijing(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)


def beijing_text(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Held:
    external_id: str
    modified: datetime
    raw: bytes


@dataclass
class Platform:
    """One platform's orders and calls; `modified_of(document)` reads an order's modified time."""

    modified_of: Callable[[dict[str, Any]], tuple[str, datetime]]
    orders: dict[str, Held] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    down: bool = False
    stock: list[dict[str, Any]] = field(default_factory=list)  # stock updates accepted, as the platform got them
    refuse_stock: int = 0  # refuse this many stock calls to come (the platform's own error answer)
    idempotent_ids: set[str] = field(default_factory=set)

    def put(self, raw: bytes) -> str:
        external_id, modified = self.modified_of(json.loads(raw))
        self.orders[external_id] = Held(external_id, modified, raw)
        return external_id

    def modified_between(self, since: datetime, until: datetime) -> list[Held]:
        return sorted((h for h in self.orders.values() if since <= h.modified < until), key=lambda h: h.modified)

    def reset(self) -> None:
        self.orders.clear()
        self.calls.clear()
        self.down = False
        self.stock.clear()
        self.refuse_stock = 0
        self.idempotent_ids.clear()

    def take_stock(self, update: dict[str, Any]) -> bool:
        """Record a stock update; False when told to refuse it. A repeated idempotency id is applied once."""
        if self.refuses_stock():
            return False
        self.record_stock(update)
        return True

    def refuses_stock(self) -> bool:
        """Whether the next stock call is to be refused (a batch call counts once, as a whole)."""
        if self.refuse_stock > 0:
            self.refuse_stock -= 1
            return True
        return False

    def record_stock(self, update: dict[str, Any]) -> None:
        key = update.get("idempotent_id")
        if key is not None:
            if key in self.idempotent_ids:
                return
            self.idempotent_ids.add(str(key))
        self.stock.append(update)

    def shown(self) -> dict[str, int]:
        """The latest quantity per platform SKU (by the update's ids, joined with '/')."""
        latest: dict[str, int] = {}
        for update in self.stock:
            ids = [str(v) for k, v in update.items() if k not in ("quantity", "stockNum", "stock_num", "type",
                                                                 "update_type", "incremental", "idempotent_id")]
            quantity = update.get("quantity", update.get("stockNum", update.get("stock_num")))
            latest["/".join(ids)] = int(quantity)  # type: ignore[arg-type]
        return latest


class Server:
    """uvicorn in a thread on a free port."""

    def __init__(self, app: Starlette) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def url(self, platform: str) -> str:
        return f"http://127.0.0.1:{self.port}/{platform}"


def all_platforms() -> tuple[Starlette, dict[str, Platform]]:
    from tests.channels.simulators import douyin, jd, pdd, taobao, youzan

    platforms = {"taobao": taobao.PLATFORM, "jd": jd.PLATFORM, "pdd": pdd.PLATFORM, "douyin": douyin.PLATFORM,
                 "youzan": youzan.PLATFORM}
    app = Starlette(routes=[Mount("/taobao", taobao.app), Mount("/tmall", taobao.app), Mount("/jd", jd.app),
                            Mount("/pdd", pdd.app), Mount("/douyin", douyin.app), Mount("/youzan", youzan.app)])
    return app, platforms
