"""No overselling, ever: many clients buying the last units at once never sell more than there is, and every
refused buyer gets a clear 409. Proven through the service layer (threads) and over HTTP against a live
server with several worker processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest
from sqlalchemy import Engine

from teahub.auth import service as auth
from teahub.bootstrap import initialize
from teahub.catalog import service as catalog
from teahub.catalog.schemas import ProductIn
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.errors import InsufficientStock
from teahub.inventory import service as inventory
from teahub.inventory.schemas import LocationIn, ReceiptIn
from teahub.sales import service as sales
from teahub.sales.schemas import OrderIn

SKU = "LAST-UNITS"
STOCK = 10
CLIENTS = 24


def arrange(engine: Engine) -> UnitOfWork:
    initialize(engine)
    uow = UnitOfWork(make_session_factory(engine), actor="test")
    inventory.create_location(uow, LocationIn(code="BJ01", name="北京前门店", kind="store"))
    inventory.create_location(uow, LocationIn(code="WH01", name="杭州中心仓", kind="warehouse"))
    catalog.create_product(uow, ProductIn.model_validate({
        "sku": SKU, "name": "西湖龙井 明前特级 250g", "category": "green", "unit": "piece",
        "prices": {"list": 68800}}))
    for location, batch in (("BJ01", "A"), ("WH01", "B")):
        # Two batches per location so allocation spans rows and the lock order matters.
        inventory.receive_stock(uow, ReceiptIn(location=location, sku=SKU, batch_code=batch, quantity=STOCK // 2,
                                               unit_cost=30000, expires_on=date(2027, 9, 28)))
        inventory.receive_stock(uow, ReceiptIn(location=location, sku=SKU, batch_code=batch + "2",
                                               quantity=STOCK - STOCK // 2, unit_cost=31000,
                                               expires_on=date(2027, 10, 28)))
    return uow


def totals(uow: UnitOfWork, location: str) -> tuple[int, int]:
    item = inventory.stock_levels(uow, sku=SKU, location=location)[0]
    return item["on_hand"], item["reserved"]


def test_threads_never_oversell_through_the_service_layer(engine: Engine) -> None:
    uow = arrange(engine)
    factory = make_session_factory(engine)
    barrier = threading.Barrier(CLIENTS)

    def buy(i: int) -> str:
        counter = i % 2 == 0
        order = OrderIn.model_validate({
            "channel": "pos" if counter else "web", "location": "BJ01" if counter else "WH01",
            "lines": [{"sku": SKU, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 68800}] if counter else []})
        barrier.wait()
        try:
            sales.place_order(UnitOfWork(factory, actor=f"client-{i}"), order)
            return "sold"
        except InsufficientStock:
            return "refused"

    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = Counter(pool.map(buy, range(CLIENTS)))
    assert outcomes == {"sold": 2 * STOCK, "refused": CLIENTS - 2 * STOCK}
    assert totals(uow, "BJ01") == (0, 0)  # sold at the counter: gone
    assert totals(uow, "WH01") == (STOCK, STOCK)  # web orders: all reserved, none beyond
    assert inventory.verify_ledger(uow) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(engine: Engine, db_url: str) -> Iterator[tuple[str, str, UnitOfWork]]:
    """teahub served by uvicorn with two worker processes on the test database."""
    uow = arrange(engine)
    auth.add_user(uow, "till", "admin")
    token = auth.create_token(uow, "till")
    port = _free_port()
    env = {**os.environ, "TEAHUB_DATABASE_URL": db_url, "TEAHUB_POOL_SIZE": "5"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "teahub.asgi:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.2)
        yield base, token, uow
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_concurrent_http_clients_never_oversell_against_several_workers(
        live_server: tuple[str, str, UnitOfWork]) -> None:
    base, token, uow = live_server
    barrier = threading.Barrier(CLIENTS)

    def buy(i: int) -> tuple[int, dict[str, object]]:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            client.get("/health")  # open the connection before the race starts
            barrier.wait()
            response = client.post("/api/v1/orders", json={
                "channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
                "payments": [{"method": "wechat", "amount": 68800}]})
            return response.status_code, response.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(buy, range(CLIENTS)))
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: STOCK, 409: CLIENTS - STOCK}, answers
    for status, body in answers:
        if status == 409:
            assert body["title"] == "Not enough stock"
            assert body["field"] == "lines.0.quantity"
    assert totals(uow, "BJ01") == (0, 0)
    assert inventory.verify_ledger(uow) == []
