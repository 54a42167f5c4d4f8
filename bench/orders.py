"""Orders per second and latency for a realistic mix, through the service layer and over HTTP,
on SQLite and on PostgreSQL. Prints one JSON line per scenario, path and database.

    .venv/bin/python bench/orders.py [--orders 2000] [--threads 8] [--postgres URL] [--only sqlite|postgresql]

Scenarios: pos_sale (a counter sale with a member, two lines, one call), web_flow (a web order through
pay → allocate → ship: four calls, counted as one order), refund (a partial refund of a completed sale).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from teahub.auth import service as auth
from teahub.bootstrap import initialize
from teahub.catalog import service as catalog
from teahub.catalog.schemas import ProductIn
from teahub.customers import service as customers
from teahub.customers.schemas import CustomerIn
from teahub.db.engine import make_engine, make_session_factory
from teahub.db.models import metadata
from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from teahub.inventory.schemas import LocationIn, ReceiptIn
from teahub.sales import refunds
from teahub.sales import service as sales
from teahub.sales.schemas import OrderIn, PaymentIn, RefundIn

SKUS = [f"BENCH-{i:03d}" for i in range(40)]
PRICE = 26800
PHONES = [f"139{i:08d}" for i in range(500)]


def fresh(kind: str, postgres_url: str) -> tuple[str, Engine, Callable[[], None]]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        metadata.create_all(engine)
        return url, engine, engine.dispose
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    engine = make_engine(url, pool_size=20)
    metadata.create_all(engine)

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()

    return url, engine, drop


def arrange(engine: Engine) -> None:
    initialize(engine)
    uow = UnitOfWork(make_session_factory(engine), actor="bench")
    with uow:
        for code, kind in (("BJ01", "store"), ("HZ01", "store"), ("WH01", "warehouse")):
            inventory.create_location(uow, LocationIn(code=code, name=code, kind=kind))
        for sku in SKUS:
            catalog.create_product(uow, ProductIn.model_validate({
                "sku": sku, "name": f"茶 {sku}", "category": "green", "unit": "piece",
                "prices": {"list": PRICE, "member": PRICE - 2000}}))
            for code in ("BJ01", "HZ01", "WH01"):
                for batch in ("A", "B"):
                    inventory.receive_stock(uow, ReceiptIn(location=code, sku=sku, batch_code=f"{sku}-{batch}",
                                                           quantity=1_000_000, unit_cost=12000,
                                                           expires_on=date(2030, 1, 1)))
        for phone in PHONES:
            customers.create_customer(uow, CustomerIn(name="顾客", phone=phone))
        auth.add_user(uow, "bench", "admin")
        uow.commit()


def pos_body(rng: random.Random, client_id: bool = False) -> dict[str, Any]:
    lines = rng.sample(SKUS, 2)
    return {"channel": "pos", "location": rng.choice(["BJ01", "HZ01"]), "customer": {"phone": rng.choice(PHONES)},
            "lines": [{"sku": s, "quantity": 1} for s in lines],
            "payments": [{"method": "wechat", "amount": 2 * (PRICE - 2000)}]}


def web_body(rng: random.Random) -> dict[str, Any]:
    return {"channel": "web", "customer": {"phone": rng.choice(PHONES)},
            "lines": [{"sku": rng.choice(SKUS), "quantity": rng.randint(1, 3)}]}


class ServicePath:
    def __init__(self, engine: Engine) -> None:
        self.factory = make_session_factory(engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory, actor="user:bench")

    def pos_sale(self, rng: random.Random) -> int:
        return sales.place_order(self.uow(), OrderIn.model_validate(pos_body(rng)))[0]["id"]  # type: ignore[no-any-return]

    def web_flow(self, rng: random.Random) -> None:
        order = sales.place_order(self.uow(), OrderIn.model_validate(web_body(rng)))[0]
        sales.pay(self.uow(), order["id"], [PaymentIn(method="alipay", amount=order["total"])])
        sales.allocate(self.uow(), order["id"])
        sales.ship(self.uow(), order["id"])

    def refund(self, order_id: int, sku: str) -> None:
        refunds.refund(self.uow(), order_id, RefundIn.model_validate({"lines": [{"sku": sku, "quantity": 1}]}))

    def lines_of(self, order_id: int) -> list[str]:
        from teahub.sales.views import get_order

        return [line["sku"] for line in get_order(self.uow(), order_id)["lines"]]


class HttpPath:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.local = threading.local()

    def client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(base_url=self.base, timeout=60,
                                             headers={"Authorization": f"Bearer {self.token}"})
        return self.local.client  # type: ignore[no-any-return]

    def _post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.client().post(path, json=body)
        if response.status_code >= 300:
            raise RuntimeError(response.text)
        return response.json()  # type: ignore[no-any-return]

    def pos_sale(self, rng: random.Random) -> int:
        return self._post("/api/v1/orders", pos_body(rng))["id"]  # type: ignore[no-any-return]

    def web_flow(self, rng: random.Random) -> None:
        order = self._post("/api/v1/orders", web_body(rng))
        self._post(f"/api/v1/orders/{order['id']}/pay", {"payments": [{"method": "alipay", "amount": order["total"]}]})
        self._post(f"/api/v1/orders/{order['id']}/allocate")
        self._post(f"/api/v1/orders/{order['id']}/ship")

    def refund(self, order_id: int, sku: str) -> None:
        self._post(f"/api/v1/orders/{order_id}/refunds", {"lines": [{"sku": sku, "quantity": 1}]})


def measure(name: str, database: str, via: str, count: int, threads: int, work: Callable[[int], None]) -> None:
    latencies: list[float] = []
    lock = threading.Lock()

    def timed(i: int) -> None:
        start = time.perf_counter()
        work(i)
        elapsed = (time.perf_counter() - start) * 1000
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(timed, range(count)))
    wall = time.perf_counter() - started
    latencies.sort()
    print(json.dumps({
        "scenario": name, "database": database, "via": via, "orders": count, "threads": threads,
        "orders_per_s": round(count / wall, 1), "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
    }), flush=True)


def run_path(path: Any, database: str, via: str, count: int, threads: int) -> None:
    rngs = [random.Random(i) for i in range(count)]
    sale_ids: list[int] = []
    lock = threading.Lock()

    def sale(i: int) -> None:
        order_id = path.pos_sale(rngs[i])
        with lock:
            sale_ids.append(order_id)

    # The counter is timed alone too, one sale at a time: that is what a clerk waits for.
    measure("pos_sale_single_client", database, via, max(count // 4, 50), 1, sale)
    measure("pos_sale", database, via, count, threads, sale)
    measure("web_flow", database, via, max(count // 4, 50), threads, lambda i: path.web_flow(rngs[i]))
    service = path if isinstance(path, ServicePath) else None
    targets = sale_ids[: max(count // 4, 50)]
    skus = {oid: (service.lines_of(oid)[0] if service else None) for oid in targets}
    if service is None:
        def first_sku(order_id: int) -> str:
            return path.client().get(f"/api/v1/orders/{order_id}").json()["lines"][0]["sku"]  # type: ignore[no-any-return]
        skus = {oid: first_sku(oid) for oid in targets}
    measure("refund", database, via, len(targets), threads, lambda i: path.refund(targets[i], skus[targets[i]]))


def serve(url: str, token_holder: list[str], engine: Engine, workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    token = auth.create_token(UnitOfWork(make_session_factory(engine)), "bench")
    token_holder.append(token)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TEAHUB_DATABASE_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "teahub.asgi:app", "--port", str(port),
                                "--workers", str(workers), "--log-level", "warning", "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return base, process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes for the HTTP runs")
    parser.add_argument("--postgres", default=os.environ.get("TEAHUB_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for database in ("sqlite", "postgresql"):
        if args.only and database != args.only:
            continue
        url, engine, drop = fresh(database, args.postgres)
        try:
            arrange(engine)
            run_path(ServicePath(engine), database, "service", args.orders, args.threads)
            tokens: list[str] = []
            base, process = serve(url, tokens, engine, args.workers)
            try:
                run_path(HttpPath(base, tokens[0]), database, "http", args.orders // 2, args.threads)
            finally:
                process.terminate()
                process.wait()
        finally:
            drop()


if __name__ == "__main__":
    main()
