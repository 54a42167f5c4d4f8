"""`teahub serve` on a laptop: one process serves the API and, in the background, reacts to what happens
(a member's sale earns points without anyone running anything else)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATABASES, fresh_database

TEAHUB = [sys.executable, "-c", "from teahub.cli import app; app()"]


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*TEAHUB, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(params=DATABASES)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    for url, _engine in fresh_database(request.param, tmp_path, create_schema=False):
        env = {**os.environ, "TEAHUB_DATABASE_URL": url}
        run(["init"], env)
        token = run(["token", "create", "admin"], env).strip().splitlines()[-1]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([*TEAHUB, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                yield client, base
        finally:
            server.terminate()
            server.wait(timeout=20)


def test_the_served_app_earns_points_in_the_background(served: tuple[httpx.Client, str]) -> None:
    client, _ = served
    assert client.post("/api/v1/locations", json={"code": "BJ01", "name": "北京前门店", "kind": "store"}).is_success
    assert client.post("/api/v1/products", json={
        "sku": "LJ-MQ26-250", "name": "西湖龙井 明前特级 250g", "category": "green", "unit": "piece",
        "prices": {"list": 68800, "member": 62800}}).is_success
    assert client.post("/api/v1/stock/receipts", json={
        "location": "BJ01", "sku": "LJ-MQ26-250", "batch_code": "LJ26-001", "quantity": 10, "unit_cost": 30000,
        "expires_on": "2027-09-28"}).is_success
    sale = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": "13812345678"},
        "lines": [{"sku": "LJ-MQ26-250", "quantity": 2}], "payments": [{"method": "wechat", "amount": 125600}]})
    assert sale.status_code == 201, sale.text
    customer_id = sale.json()["customer_id"]
    deadline = time.monotonic() + 30
    balance = 0
    while time.monotonic() < deadline:  # the worker polls about once a second
        balance = client.get(f"/api/v1/customers/{customer_id}/points").json()["balance"]
        if balance:
            break
        time.sleep(0.3)
    assert balance == 1256
    status = client.get("/api/v1/worker/status").json()
    assert any(s["name"] == "loyalty.orders" for s in status["subscriptions"])
