"""Outbox → RabbitMQ → subscriber: events per second and lag, on PostgreSQL. Prints one JSON line per scenario.

    .venv/bin/python bench/sync.py [--events 20000] [--rate 5000] [--per-tx 50] [--postgres URL] [--broker URL]

    .venv/bin/python bench/sync.py --scenarios inbound [--orders 5000] [--threads 8] [--skus 20] [--workers 2]

Scenarios:
- inbound: signed platform webhooks (Youzan pushes carrying the whole order) posted by several client threads
  to a live `teahub serve` (its own processes); each is acknowledged once stored in the inbox, then processed in
  batches into orders with their stock reserved: acknowledgements per second and their latency p50/p99, orders
  per second end to end (first post → last order processed), and a check that every order and reservation is
  there. Needs no broker.
- burst: N events already in the outbox; the relay publishes them (publisher confirms, persistent) and a
  subscriber consumes them: events per second through the whole path.
- steady: writers record events at `--rate` per second (`--per-tx` per transaction, 4 processes, as API
  workers) while the relay runs; lag = when the subscriber got the event minus when it was recorded (p50/p99/max).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pika
from sqlalchemy import Engine, text

from teahub.db.engine import make_engine, make_session_factory
from teahub.db.models import metadata
from teahub.db.uow import UnitOfWork
from teahub.sync.broker import BrokerConfig
from teahub.sync.relay import RelayOptions, relay

WRITERS = 4


def fresh(postgres_url: str) -> tuple[Engine, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    engine = make_engine(f"{postgres_url}?options=-csearch_path%3D{schema}", pool_size=12)
    metadata.create_all(engine)

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()

    return engine, drop


class Subscriber:
    """A plain consumer of a queue bound to every event type: records when each event arrives."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.connection = pika.BlockingConnection(pika.URLParameters(config.url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(config.all_exchange, "topic", durable=True)
        self.queue = f"{config.prefix}.bench"
        self.channel.queue_declare(self.queue, durable=True)
        self.channel.queue_bind(self.queue, config.all_exchange, routing_key="#")
        self.lags: list[float] = []
        self.seen: set[str] = set()
        self.last_at = 0.0

    def run(self, expected: int, timeout: float) -> None:
        self.channel.basic_qos(prefetch_count=2000)
        pending: list[int] = []

        def on_message(channel: Any, method: Any, properties: Any, body: bytes) -> None:
            now = datetime.now(UTC)
            event = json.loads(body)
            if properties.message_id not in self.seen:
                self.seen.add(properties.message_id)
                self.lags.append((now - datetime.fromisoformat(event["occurred_at"])).total_seconds())
            pending.append(method.delivery_tag)
            if len(pending) >= 200:
                channel.basic_ack(pending[-1], multiple=True)
                pending.clear()
            self.last_at = time.perf_counter()

        self.channel.basic_consume(self.queue, on_message)
        deadline = time.monotonic() + timeout
        while len(self.seen) < expected and time.monotonic() < deadline:
            self.connection.process_data_events(time_limit=0.1)
        if pending:
            self.channel.basic_ack(pending[-1], multiple=True)

    def close(self) -> None:
        self.channel.queue_delete(self.queue)
        self.channel.exchange_delete(self.config.type_exchange("bench.happened"))
        self.channel.exchange_delete(self.config.all_exchange)
        self.connection.close()


def _writer(url: str, n: int, share: int, rate: float | None, per_transaction: int, ready: Any) -> None:
    """One writer process (as an API worker is): `share` events, `per_transaction` per transaction."""
    engine = make_engine(url, pool_size=1)
    uow = UnitOfWork(make_session_factory(engine), actor="bench")
    with uow.reading():
        pass  # connected before the clock starts
    ready.wait()
    started = time.perf_counter()
    for done in range(0, share, per_transaction):
        with uow:
            for i in range(done, min(done + per_transaction, share)):
                # As orders record theirs: the version comes from the order's own row (no counter to bump).
                uow.record_event("bench.happened", "order", f"{n}-{i % 500}", {"i": i, "note": "x" * 80},
                                 version=i // 500 + 1)
            uow.commit()
        if rate:
            ahead = (done + per_transaction) / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
    engine.dispose()


def write(engine: Engine, count: int, rate: float | None, per_transaction: int,
          on_start: Any = None) -> float:
    """WRITERS processes (the API workers of a shop) writing `count` events at `rate` per second in all, once all
    are connected (then `on_start()`); answers how long the writing took."""
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(WRITERS + 1)
    writers = [context.Process(target=_writer, args=(url, n, count // WRITERS, rate / WRITERS if rate else None,
                                                     per_transaction, ready)) for n in range(WRITERS)]
    for w in writers:
        w.start()
    ready.wait()
    started = time.perf_counter()
    if on_start is not None:
        on_start()
    for w in writers:
        w.join()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def scenario(name: str, postgres_url: str, broker_url: str, events: int, rate: float | None,
             per_transaction: int) -> dict[str, Any]:
    engine, drop = fresh(postgres_url)
    config = BrokerConfig(url=broker_url, prefix=f"bench{uuid.uuid4().hex[:6]}")
    subscriber = Subscriber(config)
    uow = UnitOfWork(make_session_factory(engine), actor="bench")
    stop = threading.Event()
    options = RelayOptions(batch_size=1000, idle_wait=0.01)
    try:
        if rate is None:
            write(engine, events, None, per_transaction)
        relayer = threading.Thread(target=lambda: relay(uow, config, budget=3600, stop=stop, options=options))
        consumer = threading.Thread(target=subscriber.run, args=(events, 600))
        started = 0.0

        def start() -> None:
            nonlocal started
            started = time.perf_counter()
            consumer.start()
            relayer.start()

        if rate is None:
            start()
        else:
            written = write(engine, events, rate, per_transaction, on_start=start)
        consumer.join()
        elapsed = subscriber.last_at - started
        stop.set()
        relayer.join()
        lags = subscriber.lags
        result = {"scenario": name, "database": "postgresql", "events": events, "received": len(subscriber.seen),
                  "seconds": round(elapsed, 2), "events_per_s": round(len(subscriber.seen) / elapsed)}
        if rate is not None:
            result |= {"target_rate": rate, "written_per_s": round(events / written),
                       "lag_p50_ms": round(statistics.median(lags) * 1000, 1),
                       "lag_p99_ms": round(percentile(lags, 0.99) * 1000, 1), "lag_max_ms": round(max(lags) * 1000, 1)}
        return result
    finally:
        stop.set()
        subscriber.close()
        drop()


# -- inbound: platform webhooks → inbox → orders → stock reserved ------------------------------------------
INBOUND_KEY, INBOUND_SECRET = "bench-client", "bench-secret"


def _youzan_order(tid: str, sku: str, quantity: int) -> dict[str, Any]:
    """A paid Youzan order as `youzan.trade.get` answers it (the fields teahub reads)."""
    price = "12.00"
    paid = f"{12 * quantity}.00"
    return {"full_order_info": {
        "order_info": {"tid": tid, "status": "WAIT_SELLER_SEND_GOODS", "created": "2026-11-11 00:00:01",
                       "pay_time": "2026-11-11 00:00:02", "update_time": "2026-11-11 00:00:02"},
        "pay_info": {"payment": paid, "post_fee": "0.00", "total_fee": paid},
        "buyer_info": {"fans_nickname": "茶友", "yz_open_id": f"yz-{int(tid[5:]) % 1500}"},  # new and returning
        "address_info": {"receiver_name": "张*", "receiver_tel": "138****0000", "delivery_province": "浙江省",
                         "delivery_city": "杭州市", "delivery_district": "西湖区", "delivery_address": "龙井路 1 号"},
        "orders": [{"oid": f"{tid}1", "title": "明前龙井 50g", "num": quantity, "price": price, "payment": paid,
                    "outer_sku_id": sku, "item_id": 1, "sku_id": 0}]},
        "refund_order": []}


def _youzan_push(tid: str, sku: str, quantity: int) -> bytes:
    from urllib.parse import quote

    msg = quote(json.dumps(_youzan_order(tid, sku, quantity), ensure_ascii=False))
    sign = hashlib.md5((INBOUND_KEY + msg + INBOUND_SECRET).encode()).hexdigest()  # noqa: S324 - Youzan's scheme
    return json.dumps({"client_id": INBOUND_KEY, "id": tid, "kdt_id": 1, "msg": msg, "msg_id": f"m-{tid}",
                       "sendCount": 0, "status": "WAIT_SELLER_SEND_GOODS", "test": False,
                       "type": "trade_TradePaid", "version": 1, "sign": sign}).encode()


def inbound(postgres_url: str, orders: int, threads: int, skus: int, workers: int) -> dict[str, Any]:
    import http.client as http_client
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    from decimal import Decimal
    from pathlib import Path

    import httpx
    from sqlalchemy import func, select

    from teahub.bootstrap import initialize
    from teahub.catalog import service as catalog
    from teahub.catalog.schemas import ProductIn
    from teahub.channels import service as channels
    from teahub.channels.models import InboxMessage
    from teahub.channels.schemas import AllocationIn, ShopIn
    from teahub.db.sealing import new_key_text
    from teahub.inventory import service as inventory
    from teahub.inventory.schemas import LocationIn, ReceiptIn
    from teahub.sales.models import Order

    # The server must unseal what this process seals: both use one data key.
    os.environ.setdefault("TEAHUB_DATA_KEY", new_key_text())
    engine, drop = fresh(postgres_url)
    server = None
    try:
        initialize(engine)
        uow = UnitOfWork(make_session_factory(engine), actor="bench")
        inventory.create_location(uow, LocationIn(code="WH01", name="杭州仓", kind="warehouse"))
        codes = [f"BENCH-{i:03d}" for i in range(skus)]
        for code in codes:
            catalog.create_product(uow, ProductIn.model_validate({
                "sku": code, "name": f"茶 {code}", "category": "teaware", "unit": "piece", "prices": {"list": 1200}}))
            inventory.receive_stock(uow, ReceiptIn(location="WH01", sku=code, batch_code="B1", quantity=10_000_000,
                                                   unit_cost=500))
        channels.create_shop(uow, ShopIn(code="YZ01", platform="youzan", name="有赞", location="WH01",
                                         app_key=INBOUND_KEY, app_secret=INBOUND_SECRET,
                                         allocation=AllocationIn(ratio=Decimal(1))))
        # A real server in its own process(es), as in a shop: `teahub serve` without the embedded worker.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        folder = Path(tempfile.mkdtemp(prefix="teahub-bench-"))
        env = {**os.environ, "TEAHUB_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
        teahub = [sys.executable, "-c", "from teahub.cli import app; app()"]
        # Without the per-request access log, as behind a proxy that logs requests already.
        server = subprocess.Popen([*teahub, "serve", "--port", str(port), "--workers", str(workers),
                                   "--no-background", "--no-access-log"], env=env, cwd=folder,
                                  stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("wb"))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("teahub serve did not start: " + (folder / "server.log").read_text()[-2000:])
            time.sleep(0.2)

        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(share: list[bytes]) -> None:
            # http.client on a kept-alive connection: the client's own CPU (it shares the machine) stays small.
            mine, bad = [], []
            http = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
            for body in share:
                started = time.perf_counter()
                http.request("POST", "/api/v1/channels/YZ01/webhook", body=body,
                             headers={"content-type": "application/json"})
                answer = http.getresponse()
                text_ = answer.read()
                mine.append(time.perf_counter() - started)
                if answer.status != 200:
                    bad.append(f"{answer.status} {text_[:200]!r}")
            http.close()
            with lock:
                latencies.extend(mine)
                failures.extend(bad)

        def processed_count(prefix: str) -> int:
            with uow.reading():
                return uow.session.scalar(select(func.count()).select_from(InboxMessage).where(
                    InboxMessage.state == "processed", InboxMessage.external_id.like(f"{prefix}%"))) or 0

        def post_all(bodies: list[bytes], prefix: str) -> tuple[float, float]:
            started = time.perf_counter()
            workers_ = [threading.Thread(target=client, args=(bodies[i::threads],)) for i in range(threads)]
            for w in workers_:
                w.start()
            for w in workers_:
                w.join()
            acked = time.perf_counter() - started
            while processed_count(prefix) < len(bodies) and time.perf_counter() - started < 900:
                time.sleep(0.05)
            return acked, time.perf_counter() - started

        # Warm up (connections, first-use caches) on a few orders of their own, not counted.
        warm = [_youzan_push(f"W2026{i:012d}", codes[i % skus], 1) for i in range(threads * 5)]
        post_all(warm, "W2026")
        latencies.clear()
        bodies = [_youzan_push(f"E2026{i:012d}", codes[i % skus], 1 + i % 3) for i in range(orders)]
        acked, elapsed = post_all(bodies, "E2026")
        with uow.reading():
            made = uow.session.scalar(select(func.count()).select_from(Order).where(Order.channel == "youzan"))
        levels = inventory.stock_levels(uow, location="WH01")
        reserved = sum(level["reserved"] for level in levels)
        wanted = sum(1 + i % 3 for i in range(orders)) + len(warm)
        return {"scenario": "inbound", "database": "postgresql", "server_workers": workers, "threads": threads,
                "skus": skus, "orders": orders, "processed": processed_count("E2026"),
                "orders_made": (made or 0) - len(warm), "failed": len(failures), "reserved_ok": reserved == wanted,
                "acked_per_s": round(orders / acked), "ack_p50_ms": round(statistics.median(latencies) * 1000, 1),
                "ack_p99_ms": round(percentile(latencies, 0.99) * 1000, 1), "seconds": round(elapsed, 2),
                "orders_per_s": round(orders / elapsed), "first_failure": failures[:1]}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--per-tx", type=int, default=50,
                        help="steady/burst: events per writer transaction (a batch of 100 platform orders records "
                             "300+; a single order 3–5)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--scenarios", default="burst,steady", help="comma-separated: burst, steady, inbound")
    parser.add_argument("--orders", type=int, default=5000, help="inbound: webhooks to post")
    parser.add_argument("--threads", type=int, default=8, help="inbound: client threads")
    parser.add_argument("--skus", type=int, default=20, help="inbound: SKUs the orders spread over")
    parser.add_argument("--workers", type=int, default=2, help="inbound: `teahub serve` worker processes")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for name in chosen:
        if name == "burst":
            print(json.dumps(scenario("burst", args.postgres, args.broker, args.events, None, args.per_tx)), flush=True)
        elif name == "steady":
            result = scenario("steady", args.postgres, args.broker, args.events, args.rate, args.per_tx)
            print(json.dumps(result), flush=True)
        elif name == "inbound":
            print(json.dumps(inbound(args.postgres, args.orders, args.threads, args.skus, args.workers)), flush=True)
        else:
            parser.error(f"unknown scenario {name!r}")


if __name__ == "__main__":
    main()
